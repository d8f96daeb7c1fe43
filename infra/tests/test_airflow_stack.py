from __future__ import annotations

import json
import re

import pytest

from tests.conftest import ALLOWED_CIDR, CERTIFICATE_ARN
from tests.helpers import (
    as_list,
    containers,
    environment,
    ingress_rules,
    only,
    resources,
    secrets,
    statements_of_role,
    text,
)

CELERY_APP = "airflow.providers.celery.executors.celery_executor.app"
COMPONENTS = {"api-server", "scheduler", "dag-processor", "triggerer", "worker"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|FERNET|SQL_ALCHEMY_CONN|BROKER_URL|RESULT_BACKEND|KEY$")
CREDENTIALS_IN_URL = re.compile(r"://[^/\s:@]*:[^@\s]+@")


@pytest.fixture(scope="module")
def airflow(templates):
    return templates["dataops-airflow"]


def main_containers(airflow) -> dict[str, dict]:
    return {name: c for name, c in containers(airflow).items() if name in COMPONENTS}


def test_one_service_per_component(airflow):
    services = resources(airflow, "AWS::ECS::Service").values()
    assert {s["Properties"]["ServiceName"] for s in services} == {f"airflow-{c}" for c in COMPONENTS}
    for service in services:
        props = service["Properties"]
        assert props["LaunchType"] == "FARGATE"
        network = props["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["AssignPublicIp"] == "DISABLED"
        assert all("private" in text(subnet) for subnet in network["Subnets"])
        assert props["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    cluster = only(airflow, "AWS::ECS::Cluster")["Properties"]
    assert cluster["ClusterName"] == "dataops"
    assert cluster["ClusterSettings"] == [{"Name": "containerInsights", "Value": "enabled"}]


def test_components_run_the_airflow_image_with_health_checks(airflow):
    found = main_containers(airflow)
    assert set(found) == COMPONENTS
    commands = {name: c["Command"] for name, c in found.items()}
    assert commands == {
        "api-server": ["bash", "/opt/dataops/bin/start-api-server"],
        "scheduler": ["scheduler"],
        "dag-processor": ["dag-processor"],
        "triggerer": ["triggerer"],
        "worker": ["celery", "worker"],
    }
    for name, container in found.items():
        image = text(container["Image"])
        assert "dataops-registries:ExportsOutputRefAirflowRepository" in image and image.endswith('":latest"]]}'), name
        assert container["LogConfiguration"]["Options"]["awslogs-stream-prefix"] == name
    # Each component is checked where it says it is healthy, the API server where the load balancer checks it.
    checks = {name: c["HealthCheck"]["Command"] for name, c in found.items()}
    assert checks == {
        "api-server": ["CMD-SHELL", "curl --fail --silent http://localhost:8080/api/v2/monitor/health"],
        "scheduler": ["CMD-SHELL", "curl --fail --silent http://localhost:8974/health"],
        "dag-processor": ["CMD-SHELL", "airflow jobs check --job-type DagProcessorJob --local"],
        "triggerer": ["CMD-SHELL", "airflow jobs check --job-type TriggererJob --local"],
        "worker": ["CMD-SHELL", f'celery --app {CELERY_APP} inspect ping -d "celery@$(hostname)"'],
    }
    # The API server waits for `airflow db migrate` to succeed.
    init = containers(airflow)["api-server-init"]
    assert init["Command"] == ["db", "migrate"] and init["Essential"] is False
    assert found["api-server"]["DependsOn"] == [{"Condition": "SUCCESS", "ContainerName": "api-server-init"}]


def test_dbt_ecs_settings_are_in_every_airflow_container(airflow, platform):
    """The orchestration's `ecs` executor reads these; nobody edits a DAG for subnet ids."""
    for name, container in main_containers(airflow).items():
        env = environment(container)
        assert env["DATAOPS_DBT_EXECUTOR"] == "ecs", name
        assert env["DATAOPS_ECS_CLUSTER"] == "dataops"
        assert env["DATAOPS_ECS_TASK_DEFINITION"] == "dataops-dbt"
        assert env["DATAOPS_ECS_CONTAINER_NAME"] == "dbt"
        assert env["DATAOPS_ECS_LOG_GROUP"] == "/dataops/dbt"
        assert env["DATAOPS_ECS_LOG_STREAM_PREFIX"] == "dbt"
        subnets = env["DATAOPS_ECS_SUBNETS"]["Fn::Join"]
        assert subnets[0] == "," and len(subnets[1]) == 2
        assert all("privateSubnet" in text(subnet) for subnet in subnets[1])
        assert "DbtSecurityGroup" in text(env["DATAOPS_ECS_SECURITY_GROUPS"])
        assert env["DATAOPS_TARGET"] == "redshift" and env["DATAOPS_REDSHIFT_PORT"] == "5439"
        assert env["DATAOPS_ARTIFACTS_BUCKET"] == "dataops-artifacts-123456789012-us-east-1"
        assert env["DATAOPS_S3_BUCKET"] == "dataops-data-123456789012-us-east-1"
        assert "CopyRole" in text(env["DATAOPS_REDSHIFT_COPY_ROLE_ARN"])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "dataops.airflow.celery_executor.BrokerPatientCeleryExecutor"
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://api-server.dataops.internal:8080/execution/"
    outputs = {o["Description"]: o["Value"] for o in airflow.to_json()["Outputs"].values() if "Description" in o}
    assert outputs["DATAOPS_ECS_TASK_DEFINITION"] == "dataops-dbt"


def test_airflow_reads_the_dags_from_published_bundles(airflow):
    """The DAG processor reads the analytics bundle store; the image has no DAG folder of its own."""
    for name, container in main_containers(airflow).items():
        env = environment(container)
        assert json.loads(env["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"]) == [
            {
                "name": "analytics",
                "classpath": "dataops.airflow.bundle.PublishedDagBundle",
                "kwargs": {"store": "s3://dataops-artifacts-123456789012-us-east-1/bundles", "refresh_interval": 30},
            }
        ], name
        assert env["DATAOPS_BUNDLE_STORE"] == "s3://dataops-artifacts-123456789012-us-east-1/bundles", name
        assert "DATAOPS_DBT_PROJECT_DIR" not in env and "AIRFLOW__CORE__DAGS_FOLDER" not in env, name


def test_no_plaintext_secret_in_any_task_definition(templates):
    for stack, template in templates.items():
        for name, container in containers(template).items():
            for variable, value in environment(container).items():
                assert not SECRET_NAME.search(variable), f"{stack}/{name}: {variable} must be an ECS secret"
                assert "resolve:secretsmanager" not in text(value), f"{stack}/{name}: {variable}"
                assert not CREDENTIALS_IN_URL.search(text(value)), f"{stack}/{name}: {variable}"


def test_each_component_gets_only_the_secrets_it_needs(airflow):
    common = {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__API__SECRET_KEY",
    }
    celery = {"AIRFLOW__CELERY__BROKER_URL", "AIRFLOW__CELERY__RESULT_BACKEND"}
    expected = {
        "api-server": common | {"AIRFLOW_ADMIN_PASSWORD"},
        "scheduler": common | celery,
        "dag-processor": common,
        "triggerer": common,
        "worker": common | celery | {"DATAOPS_REDSHIFT_PASSWORD"},
    }
    assert {name: set(secrets(c)) for name, c in main_containers(airflow).items()} == expected
    fields = {k: text(v) for k, v in secrets(main_containers(airflow)["worker"]).items()}
    assert fields["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith(':sql_alchemy_conn::"]]}')
    assert fields["AIRFLOW__CELERY__RESULT_BACKEND"].endswith(':result_backend::"]]}')
    assert fields["AIRFLOW__CELERY__BROKER_URL"].endswith(':broker_url::"]]}')
    assert fields["AIRFLOW__CORE__FERNET_KEY"].endswith("secret:dataops/airflow/fernet-key")


PARTIES = [
    "LoadBalancer",
    "ApiServer",
    "Scheduler",
    "DagProcessor",
    "Triggerer",
    "Worker",
    "MetadataDb",
    "Broker",
    "Provisioned",
    "Dbt",
]


def party(value) -> str:
    rendered = text(value)
    matches = [name for name in PARTIES if f"{name}SecurityGroup" in rendered]
    assert len(matches) == 1, rendered
    return "Warehouse" if matches[0] == "Provisioned" else matches[0]


def test_security_groups_open_only_the_needed_ports(templates, settings):
    between_groups, from_cidrs = set(), set()
    for _, rule in ingress_rules(templates):
        assert rule.get("CidrIp") != "0.0.0.0/0" and "CidrIpv6" not in rule
        port = (rule["FromPort"], rule["ToPort"])
        assert port[0] == port[1], rule
        if "SourceSecurityGroupId" in rule:
            target = party(rule["GroupId"]) if "GroupId" in rule else "?"
            between_groups.add((party(rule["SourceSecurityGroupId"]), target, port[0]))
        else:
            from_cidrs.add((rule["CidrIp"], port[0]))
    components = ["ApiServer", "Scheduler", "DagProcessor", "Triggerer", "Worker"]
    assert between_groups == {
        ("LoadBalancer", "ApiServer", 8080),
        ("Worker", "ApiServer", 8080),  # the execution API
        ("ApiServer", "Worker", 8793),  # live task logs
        ("ApiServer", "Triggerer", 8794),  # live trigger logs
        *{(component, "MetadataDb", 5432) for component in components},
        ("Scheduler", "Broker", 6379),
        ("Worker", "Broker", 6379),
        ("Worker", "Warehouse", 5439),
        ("Dbt", "Warehouse", 5439),
    }
    assert from_cidrs == {(ALLOWED_CIDR, 80), (ALLOWED_CIDR, 443), (settings.vpc_cidr, 443)}


def test_load_balancer_serves_https_and_redirects_http(airflow):
    found = resources(airflow, "AWS::ElasticLoadBalancingV2::Listener").values()
    listeners = {listener["Properties"]["Port"]: listener["Properties"] for listener in found}
    assert set(listeners) == {80, 443}
    assert listeners[443]["Protocol"] == "HTTPS"
    assert listeners[443]["Certificates"] == [{"CertificateArn": CERTIFICATE_ARN}]
    assert listeners[443]["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    assert listeners[80]["DefaultActions"][0]["Type"] == "redirect"
    balancer = only(airflow, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]
    attributes = {a["Key"]: a["Value"] for a in balancer["LoadBalancerAttributes"]}
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["deletion_protection.enabled"] == "true"
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    group = only(airflow, "AWS::ElasticLoadBalancingV2::TargetGroup")["Properties"]
    assert group["Port"] == 8080 and group["HealthCheckPath"] == "/api/v2/monitor/health"
    api = environment(containers(airflow)["api-server"])
    assert api["AIRFLOW__API__BASE_URL"] == "https://airflow.example.com"


def test_workers_scale_on_cpu(airflow, settings):
    target = only(airflow, "AWS::ApplicationAutoScaling::ScalableTarget")["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (settings.worker_min, settings.worker_max)
    assert "WorkerService" in text(target["ResourceId"])
    policy = only(airflow, "AWS::ApplicationAutoScaling::ScalingPolicy")["Properties"]
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    assert config["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    assert config["TargetValue"] == settings.worker_target_cpu_percent


def test_task_roles_are_least_privilege(airflow):
    for role in ("TaskRolesControlPlane", "TaskRolesWorker"):
        statements = statements_of_role(airflow, role)
        assert statements, role
        for statement in statements:
            assert statement["Effect"] == "Allow"
            for action in as_list(statement["Action"]):
                assert "*" not in action, f"{role}: {action}"
            for resource in as_list(statement["Resource"]):
                assert resource != "*" and text(resource) != '"*"', f"{role}: {statement}"
    control = {a for s in statements_of_role(airflow, "TaskRolesControlPlane") for a in as_list(s["Action"])}
    assert control == {"s3:GetObject", "s3:PutObject", "s3:ListBucket"}
    bucket = "arn:aws:s3:::dataops-artifacts-123456789012-us-east-1"
    for role in ("TaskRolesControlPlane", "TaskRolesWorker"):
        statements = statements_of_role(airflow, role)
        # Bundles: read-only (Get, and List under the prefix); nothing else may touch bundles/.
        grants = {
            (action, resource)
            for s in statements
            for action in as_list(s["Action"])
            for resource in as_list(s["Resource"])
            if "Condition" not in s
        }
        assert {g for g in grants if text(g[1]).startswith(f"{bucket}/bundles")} == {
            ("s3:GetObject", f"{bucket}/bundles/*")
        }, role
        assert {
            "Action": "s3:ListBucket",
            "Condition": {"StringLike": {"s3:prefix": ["bundles", "bundles/*"]}},
            "Effect": "Allow",
            "Resource": bucket,
        } in statements, role
    worker = {a: s for s in statements_of_role(airflow, "TaskRolesWorker") for a in as_list(s["Action"])}
    assert worker["ecs:RunTask"]["Resource"] == "arn:aws:ecs:us-east-1:123456789012:task-definition/dataops-dbt:*"
    assert worker["ecs:RunTask"]["Condition"] == {
        "ArnEquals": {"ecs:cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/dataops"}
    }
    assert worker["iam:PassRole"]["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    assert len(worker["iam:PassRole"]["Resource"]) == 2  # the dbt task role and its execution role
    assert worker["logs:GetLogEvents"]["Resource"] == (
        "arn:aws:logs:us-east-1:123456789012:log-group:/dataops/dbt:log-stream:dbt/*"
    )


def test_execution_roles_read_only_their_secrets(airflow):
    for name, container in main_containers(airflow).items():
        assert len(secrets(container)) >= 4, name
    for policy in resources(airflow, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "secretsmanager:GetSecretValue" in as_list(statement["Action"]):
                assert "*" != statement["Resource"]
