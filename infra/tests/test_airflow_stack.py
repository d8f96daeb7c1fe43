from __future__ import annotations

import json
import re

import pytest

from tests.conftest import ALLOWED_CIDR, CERTIFICATE_ARN, IMAGE_TAG
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
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|FERNET|BROKER_URL$|RESULT_BACKEND$|KEY$")
CREDENTIALS_IN_URL = re.compile(r"://[^/\s:@]*:[^@\s]+@")
# Plain variables whose names look secret but that only name where a secret is.
NAMES_A_SECRET = {"DATAOPS_METADATA_DB_SECRET_ARN"}


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
        # Only the API server (it signs users in with the identity provider) has a route out.
        tier = "private" if props["ServiceName"] == "airflow-api-server" else "isolated"
        assert all(tier in text(subnet) for subnet in network["Subnets"]), props["ServiceName"]
        assert props["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    cluster = only(airflow, "AWS::ECS::Cluster")["Properties"]
    assert cluster["ClusterName"] == "dataops"
    assert cluster["ClusterSettings"] == [{"Name": "containerInsights", "Value": "enabled"}]


def test_components_run_the_airflow_image_with_health_checks(airflow):
    found = main_containers(airflow)
    assert set(found) == COMPONENTS
    commands = {name: c["Command"] for name, c in found.items()}
    assert commands == {
        "api-server": ["api-server"],
        "scheduler": ["scheduler"],
        "dag-processor": ["dag-processor"],
        "triggerer": ["triggerer"],
        "worker": ["celery", "worker"],
    }
    for name, container in found.items():
        image = text(container["Image"])
        # The commit's immutable tag: every deploy of a new commit changes every task definition.
        assert "dataops-registries:ExportsOutputRefAirflowRepository" in image, name
        assert image.endswith(f'":{IMAGE_TAG}"]]}}'), name
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
        # The exact revision this deploy registered (a Ref in the same stack), never the family's latest.
        assert env["DATAOPS_ECS_TASK_DEFINITION"] == {"Ref": dbt_task_definition(airflow)}
        assert env["DATAOPS_ECS_CONTAINER_NAME"] == "dbt"
        assert env["DATAOPS_ECS_LOG_GROUP"] == "/dataops/dbt"
        assert env["DATAOPS_ECS_LOG_STREAM_PREFIX"] == "dbt"
        subnets = env["DATAOPS_ECS_SUBNETS"]["Fn::Join"]
        assert subnets[0] == "," and len(subnets[1]) == 2
        assert all("isolatedSubnet" in text(subnet) for subnet in subnets[1])
        assert "DbtSecurityGroup" in text(env["DATAOPS_ECS_SECURITY_GROUPS"])
        assert env["DATAOPS_TARGET"] == "redshift" and env["DATAOPS_REDSHIFT_PORT"] == "5439"
        assert env["DATAOPS_ARTIFACTS_BUCKET"] == "dataops-artifacts-123456789012-us-east-1"
        assert env["DATAOPS_S3_BUCKET"] == "dataops-data-123456789012-us-east-1"
        assert "CopyRole" in text(env["DATAOPS_REDSHIFT_COPY_ROLE_ARN"])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "dataops.airflow.celery_executor.BrokerPatientCeleryExecutor"
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://api-server.dataops.internal:8080/execution/"
    outputs = {o["Description"]: o["Value"] for o in airflow.to_json()["Outputs"].values() if "Description" in o}
    assert outputs["DATAOPS_ECS_TASK_DEFINITION"] == {"Ref": dbt_task_definition(airflow)}


def dbt_task_definition(airflow) -> str:
    found = [
        k
        for k, r in resources(airflow, "AWS::ECS::TaskDefinition").items()
        if r["Properties"]["Family"] == "dataops-dbt"
    ]
    assert len(found) == 1
    return found[0]


def test_dbt_runs_the_revision_of_the_same_deploy(airflow):
    """RunTask is allowed on that one revision only, and it runs the dbt image of the same commit."""
    worker = {a: s for s in statements_of_role(airflow, "TaskRolesWorker") for a in as_list(s["Action"])}
    assert worker["ecs:RunTask"]["Resource"] == {"Ref": dbt_task_definition(airflow)}
    assert worker["ecs:RunTask"]["Condition"] == {
        "ArnEquals": {"ecs:cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/dataops"}
    }
    image = text(containers(airflow)["dbt"]["Image"])
    assert "ExportsOutputRefDbtRepository" in image and image.endswith(f'":{IMAGE_TAG}"]]}}')


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
                if variable not in NAMES_A_SECRET:
                    assert not SECRET_NAME.search(variable), f"{stack}/{name}: {variable} must be an ECS secret"
                assert "resolve:secretsmanager" not in text(value), f"{stack}/{name}: {variable}"
                assert not CREDENTIALS_IN_URL.search(text(value)), f"{stack}/{name}: {variable}"


def test_each_component_gets_only_the_secrets_it_needs(airflow):
    common = {"AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"}
    broker = {"DATAOPS_BROKER_AUTH_TOKEN"}
    expected = {
        "api-server": common,
        "scheduler": common | broker,
        "queue-metrics": common | broker,
        "dag-processor": common,
        "triggerer": common,
        "worker": common | broker,
    }
    found = {name: set(secrets(c)) for name, c in containers(airflow).items() if name in expected}
    assert found == expected
    # No warehouse password anywhere: workers and dbt sign in with temporary IAM credentials.
    for name, container in containers(airflow).items():
        assert "DATAOPS_REDSHIFT_PASSWORD" not in secrets(container) | environment(container).keys(), name
    assert text(secrets(containers(airflow)["worker"])["DATAOPS_BROKER_AUTH_TOKEN"]).count("BrokerAuthToken") == 1
    assert "secret:dataops/airflow/fernet-key" in text(
        secrets(containers(airflow)["worker"])["AIRFLOW__CORE__FERNET_KEY"]
    )


def test_the_metadata_database_is_reached_without_a_stored_password_and_with_verified_tls(airflow):
    """The control plane names user, host and CA; each connection reads RDS's rotating password."""
    for name in ("api-server", "scheduler", "dag-processor", "triggerer"):
        env = environment(containers(airflow)[name])
        url = text(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        assert "postgresql+psycopg2://airflow@" in url
        assert "sslmode=verify-full&sslrootcert=/opt/dataops/certs/rds-global-bundle.pem" in url
        assert "MasterUserSecretSecretArn" in text(env["DATAOPS_METADATA_DB_SECRET_ARN"]), name
    control = statements_of_role(airflow, "TaskRolesControlPlane")
    reads = [s for s in control if s["Action"] == "secretsmanager:GetSecretValue"]
    assert len(reads) == 1 and "MasterUserSecretSecretArn" in text(reads[0]["Resource"])


def test_workers_have_no_metadata_database_and_celery_keeps_its_results_on_the_broker(airflow, templates):
    worker = environment(containers(airflow)["worker"])
    assert not {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "DATAOPS_METADATA_DB_SECRET_ARN"} & worker.keys()
    for name in ("scheduler", "worker"):
        env = environment(containers(airflow)[name])
        assert env["AIRFLOW__CELERY__BROKER_URL_CMD"] == "/opt/dataops/bin/connection-url broker"
        assert env["AIRFLOW__CELERY__RESULT_BACKEND_CMD"] == "/opt/dataops/bin/connection-url result-backend"
        assert "AIRFLOW__CELERY__RESULT_BACKEND" not in env and "BrokerReplicationGroup" in text(
            env["DATAOPS_BROKER_HOST"]
        )
    # The worker's role cannot read the database's secret; its security group cannot reach PostgreSQL.
    assert not [s for s in statements_of_role(airflow, "TaskRolesWorker") if "secretsmanager" in text(s["Action"])]
    assert 5432 not in {port for _, port in egress(airflow, "WorkerSecurityGroup")}
    assert not [r for _, r in ingress_rules(templates) if r.get("FromPort") == 5432 and "Worker" in text(r)]


def only_group(template, logical_id_prefix: str) -> dict:
    found = [g for k, g in resources(template, "AWS::EC2::SecurityGroup").items() if k.startswith(logical_id_prefix)]
    assert len(found) == 1, logical_id_prefix
    return found[0]


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
    control_plane = ["ApiServer", "Scheduler", "DagProcessor", "Triggerer"]
    assert between_groups == {
        ("LoadBalancer", "ApiServer", 8080),
        ("Worker", "ApiServer", 8080),  # the execution API
        ("ApiServer", "Worker", 8793),  # live task logs
        ("ApiServer", "Triggerer", 8794),  # live trigger logs
        *{(component, "MetadataDb", 5432) for component in control_plane},  # never the workers
        ("Scheduler", "Broker", 6379),
        ("Worker", "Broker", 6379),
        ("Worker", "Warehouse", 5439),
        ("Dbt", "Warehouse", 5439),
    }
    assert from_cidrs == {(ALLOWED_CIDR, 80), (ALLOWED_CIDR, 443), (settings.vpc_cidr, 443)}


def egress(template, logical_id_prefix: str) -> set[tuple]:
    """(peer, port) of a group's outbound rules: inline ones and standalone SecurityGroupEgress resources."""
    [(logical_id, group)] = [
        (k, g) for k, g in resources(template, "AWS::EC2::SecurityGroup").items() if k.startswith(logical_id_prefix)
    ]
    rules = list(group["Properties"].get("SecurityGroupEgress", []))
    rules += [
        r["Properties"]
        for r in resources(template, "AWS::EC2::SecurityGroupEgress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [logical_id, "GroupId"]}
    ]
    return {(rule.get("CidrIp") or party(rule["DestinationSecurityGroupId"]), rule["FromPort"]) for rule in rules}


def test_tasks_reach_out_only_where_they_must(airflow, templates):
    """Outbound is closed by default: HTTPS (from the isolated subnets that is the VPC endpoints and the S3
    gateway) plus the ports of the parties each component talks to."""
    https = ("0.0.0.0/0", 443)
    assert egress(airflow, "ApiServerSecurityGroup") == {
        https,
        ("MetadataDb", 5432),
        ("Worker", 8793),
        ("Triggerer", 8794),
    }
    assert egress(airflow, "SchedulerSecurityGroup") == {https, ("MetadataDb", 5432), ("Broker", 6379)}
    assert egress(airflow, "DagProcessorSecurityGroup") == {https, ("MetadataDb", 5432)}
    assert egress(airflow, "TriggererSecurityGroup") == {https, ("MetadataDb", 5432)}
    assert egress(airflow, "WorkerSecurityGroup") == {
        https,
        ("Broker", 6379),
        ("Warehouse", 5439),
        ("ApiServer", 8080),
    }
    assert egress(templates["dataops-dbt"], "DbtSecurityGroup") == {https, ("Warehouse", 5439)}


def test_load_balancer_serves_https_and_redirects_http(airflow):
    found = resources(airflow, "AWS::ElasticLoadBalancingV2::Listener").values()
    listeners = {listener["Properties"]["Port"]: listener["Properties"] for listener in found}
    assert set(listeners) == {80, 443}
    assert listeners[443]["Protocol"] == "HTTPS"
    assert listeners[443]["Certificates"] == [{"CertificateArn": CERTIFICATE_ARN}]
    assert listeners[443]["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    assert listeners[80]["DefaultActions"][0]["Type"] == "redirect"
    balancer = only(airflow, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]
    assert balancer["Scheme"] == "internet-facing"
    attributes = {a["Key"]: a["Value"] for a in balancer["LoadBalancerAttributes"]}
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["deletion_protection.enabled"] == "true"
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    group = only(airflow, "AWS::ElasticLoadBalancingV2::TargetGroup")["Properties"]
    assert group["Port"] == 8080 and group["HealthCheckPath"] == "/api/v2/monitor/health"
    api = environment(containers(airflow)["api-server"])
    assert api["AIRFLOW__API__BASE_URL"] == "https://airflow.example.com"


def test_users_sign_in_with_their_own_identity_and_roles(airflow):
    """FAB auth manager over OIDC: per-user accounts in Cognito (MFA, no self sign-up), roles from groups."""
    for name in COMPONENTS:
        env = environment(containers(airflow)[name])
        assert (
            env["AIRFLOW__CORE__AUTH_MANAGER"] == "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
        )
        assert env["AIRFLOW__FAB__CONFIG_FILE"] == "/opt/airflow/webserver_config.py"
        assert "SIMPLE_AUTH_MANAGER" not in text(env)
        assert "https://cognito-idp.us-east-1.amazonaws.com/" in text(env["DATAOPS_OIDC_ISSUER"])
    pool = only(airflow, "AWS::Cognito::UserPool")["Properties"]
    assert pool["MfaConfiguration"] == "ON"
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 14
    groups = {g["Properties"]["GroupName"] for g in resources(airflow, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"airflow-viewer", "airflow-op", "airflow-admin"}
    client = only(airflow, "AWS::Cognito::UserPoolClient")["Properties"]
    assert client["GenerateSecret"] is False and client["AllowedOAuthFlows"] == ["code"]
    assert client["CallbackURLs"] == ["https://airflow.example.com/auth/oauth-authorized/cognito"]


def test_workers_scale_on_the_celery_queue_within_bounds(airflow, settings):
    target = only(airflow, "AWS::ApplicationAutoScaling::ScalableTarget")["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (settings.worker_min, settings.worker_max)
    assert "WorkerService" in text(target["ResourceId"])
    policies = resources(airflow, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    assert {p["Properties"]["PolicyType"] for p in policies} == {"StepScaling"}
    assert not [p for p in policies if "TargetTrackingScalingPolicyConfiguration" in p["Properties"]]
    alarms = {k: a["Properties"] for k, a in resources(airflow, "AWS::CloudWatch::Alarm").items()}
    backlog = next(a for k, a in alarms.items() if "QueueBacklogUpper" in k)
    assert (backlog["Namespace"], backlog["MetricName"]) == ("DataOps/Airflow", "QueuedTasks")
    assert backlog["Dimensions"] == [{"Name": "Deployment", "Value": "dataops"}]
    idle = next(a for k, a in alarms.items() if "IdleLower" in k)
    assert [m.get("Expression") for m in idle["Metrics"] if "Expression" in m] == ["queued + running"]
    assert idle["EvaluationPeriods"] == 15
    # The scheduler's sidecar publishes the depth; its role may put metrics in that namespace only.
    assert containers(airflow)["queue-metrics"]["Command"] == ["python", "/opt/dataops/bin/queue-metrics"]
    put = [s for s in statements_of_role(airflow, "TaskRolesControlPlane") if s["Action"] == "cloudwatch:PutMetricData"]
    assert put == [
        {
            "Action": "cloudwatch:PutMetricData",
            "Condition": {"StringEquals": {"cloudwatch:namespace": "DataOps/Airflow"}},
            "Effect": "Allow",
            "Resource": "*",
        }
    ]


def test_task_roles_are_least_privilege(airflow):
    for role in ("TaskRolesControlPlane", "TaskRolesWorker"):
        statements = statements_of_role(airflow, role)
        assert statements, role
        for statement in statements:
            assert statement["Effect"] == "Allow"
            for action in as_list(statement["Action"]):
                assert "*" not in action, f"{role}: {action}"
            for resource in as_list(statement["Resource"]):
                if statement["Action"] != "cloudwatch:PutMetricData":
                    assert resource != "*" and text(resource) != '"*"', f"{role}: {statement}"
    control = {a for s in statements_of_role(airflow, "TaskRolesControlPlane") for a in as_list(s["Action"])}
    assert control == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
        "secretsmanager:GetSecretValue",
        "cloudwatch:PutMetricData",
    }
    bucket = "arn:aws:s3:::dataops-artifacts-123456789012-us-east-1"
    for role in ("TaskRolesControlPlane", "TaskRolesWorker"):
        statements = statements_of_role(airflow, role)
        # Bundles: read-only (Get, and List under the prefix); nothing else may touch bundles/.
        grants = {
            (action, text(resource))
            for s in statements
            for action in as_list(s["Action"])
            for resource in as_list(s["Resource"])
            if "Condition" not in s
        }
        assert {g for g in grants if g[1].startswith(f"{bucket}/bundles")} == {
            ("s3:GetObject", f"{bucket}/bundles/*")
        }, role
        assert {
            "Action": "s3:ListBucket",
            "Condition": {"StringLike": {"s3:prefix": ["bundles", "bundles/*"]}},
            "Effect": "Allow",
            "Resource": bucket,
        } in statements, role
    worker = {a: s for s in statements_of_role(airflow, "TaskRolesWorker") for a in as_list(s["Action"])}
    # The data bucket: uploads under tickit/ only; no read, list or delete.
    assert worker["s3:PutObject"] != worker.get("s3:DeleteObject")
    data = [s for s in statements_of_role(airflow, "TaskRolesWorker") if "dataops-data" in text(s["Resource"])]
    assert data == [
        {
            "Action": "s3:PutObject",
            "Effect": "Allow",
            "Resource": "arn:aws:s3:::dataops-data-123456789012-us-east-1/tickit/*",
        }
    ]
    assert worker["iam:PassRole"]["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    assert len(worker["iam:PassRole"]["Resource"]) == 2  # the dbt task role and its execution role
    assert worker["logs:GetLogEvents"]["Resource"] == (
        "arn:aws:logs:us-east-1:123456789012:log-group:/dataops/dbt:log-stream:dbt/*"
    )
    # The worker signs in to Redshift as the loader user, and as no other.
    assert sorted(worker["redshift:GetClusterCredentials"]["Resource"]) == [
        "arn:aws:redshift:us-east-1:123456789012:dbname:dataops-warehouse/dataops",
        "arn:aws:redshift:us-east-1:123456789012:dbuser:dataops-warehouse/dataops_loader",
    ]
    env = environment(containers(airflow)["worker"])
    assert (env["DATAOPS_REDSHIFT_METHOD"], env["DATAOPS_REDSHIFT_USER"]) == ("iam", "dataops_loader")
    assert (env["DATAOPS_REDSHIFT_CLUSTER_ID"], env["DATAOPS_REDSHIFT_SSLMODE"]) == ("dataops-warehouse", "verify-full")


def test_one_execution_role_starts_the_airflow_tasks_and_reads_only_their_secrets(airflow):
    roles = {text(t["Properties"]["ExecutionRoleArn"]) for t in resources(airflow, "AWS::ECS::TaskDefinition").values()}
    assert len(roles) == 2  # the Airflow components' and the dbt task's
    for policy in resources(airflow, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "secretsmanager:GetSecretValue" in as_list(statement["Action"]):
                assert "*" != statement["Resource"]
