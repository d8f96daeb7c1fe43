from __future__ import annotations

from tests.helpers import containers, environment, only, resources, secrets, statements_of_role, text

WAREHOUSE_VARIABLES = {
    "DATAOPS_TARGET",
    "DATAOPS_REDSHIFT_HOST",
    "DATAOPS_REDSHIFT_PORT",
    "DATAOPS_REDSHIFT_DATABASE",
    "DATAOPS_REDSHIFT_METHOD",
    "DATAOPS_REDSHIFT_CLUSTER_ID",
    "DATAOPS_REDSHIFT_SSLMODE",
    "DATAOPS_REDSHIFT_USER",
    "DATAOPS_REDSHIFT_COPY_ROLE_ARN",
    "DATAOPS_S3_BUCKET",
    "DATAOPS_ARTIFACTS_BUCKET",
}


def test_the_dbt_task_definition_lives_with_airflow(templates):
    """Registered by the Airflow stack, whose containers name the revision (test_airflow_stack)."""
    assert not resources(templates["dataops-dbt"], "AWS::ECS::TaskDefinition")
    airflow = templates["dataops-airflow"]
    [task] = [
        t["Properties"]
        for t in resources(airflow, "AWS::ECS::TaskDefinition").values()
        if t["Properties"]["Family"] == "dataops-dbt"
    ]
    assert task["RequiresCompatibilities"] == ["FARGATE"] and task["NetworkMode"] == "awsvpc"
    container = containers(airflow)["dbt"]
    logging = container["LogConfiguration"]
    assert logging["LogDriver"] == "awslogs" and logging["Options"]["awslogs-stream-prefix"] == "dbt"
    assert only(templates["dataops-dbt"], "AWS::Logs::LogGroup")["Properties"]["LogGroupName"] == "/dataops/dbt"


def test_dbt_signs_in_with_iam_over_verified_tls_and_holds_no_password(templates):
    container = containers(templates["dataops-airflow"])["dbt"]
    env = environment(container)
    assert set(env) == WAREHOUSE_VARIABLES | {"DATAOPS_BUNDLE_STORE"}
    assert env["DATAOPS_BUNDLE_STORE"] == "s3://dataops-artifacts-123456789012-us-east-1/bundles"
    # No project in the image or its settings: each run fetches its bundle (DATAOPS_BUNDLE_VERSION override).
    assert "DATAOPS_DBT_PROJECT_DIR" not in env and "DATAOPS_BUNDLE_VERSION" not in env
    assert env["DATAOPS_TARGET"] == "redshift" and env["DATAOPS_REDSHIFT_PORT"] == "5439"
    assert (env["DATAOPS_REDSHIFT_METHOD"], env["DATAOPS_REDSHIFT_USER"]) == ("iam", "dataops_dbt")
    assert env["DATAOPS_REDSHIFT_SSLMODE"] == "verify-full"
    assert secrets(container) == {}


def test_task_role_reads_bundles_writes_its_artifacts_keeps_dbts_parse_and_signs_in_as_dbt(templates):
    dbt = templates["dataops-dbt"]
    role = only(dbt, "AWS::IAM::Role")["Properties"]
    assert role["RoleName"] == "dataops-dbt-task"
    statements = statements_of_role(dbt, "DbtTaskRole")
    bucket = "arn:aws:s3:::dataops-artifacts-123456789012-us-east-1"
    assert sorted(statements, key=lambda s: str(s["Action"])) == [
        {
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Effect": "Allow",
            "Resource": f"{bucket}/dbt-parse-cache/*",
        },
        {
            "Action": "redshift:GetClusterCredentials",
            "Effect": "Allow",
            "Resource": [
                "arn:aws:redshift:us-east-1:123456789012:dbname:dataops-warehouse/dataops",
                "arn:aws:redshift:us-east-1:123456789012:dbuser:dataops-warehouse/dataops_dbt",
            ],
        },
        {"Action": "s3:GetObject", "Effect": "Allow", "Resource": f"{bucket}/bundles/*"},
        {
            "Action": "s3:ListBucket",
            "Condition": {"StringLike": {"s3:prefix": ["bundles", "bundles/*"]}},
            "Effect": "Allow",
            "Resource": bucket,
        },
        {"Action": "s3:PutObject", "Effect": "Allow", "Resource": f"{bucket}/dbt/*"},
    ]


def test_dbt_security_group_has_no_ingress_and_reaches_redshift(templates):
    dbt = templates["dataops-dbt"]
    group = only(dbt, "AWS::EC2::SecurityGroup")["Properties"]
    assert "SecurityGroupIngress" not in group
    rules = [r["Properties"] for r in resources(dbt, "AWS::EC2::SecurityGroupIngress").values()]
    assert len(rules) == 1
    assert rules[0]["FromPort"] == rules[0]["ToPort"] == 5439
    assert "warehouse" in text(rules[0]["GroupId"]) and "DbtSecurityGroup" in text(rules[0]["SourceSecurityGroupId"])
