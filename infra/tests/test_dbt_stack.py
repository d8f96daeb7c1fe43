from __future__ import annotations

from tests.helpers import containers, environment, only, resources, secrets, statements_of_role, text

WAREHOUSE_VARIABLES = {
    "DATAOPS_TARGET",
    "DATAOPS_REDSHIFT_HOST",
    "DATAOPS_REDSHIFT_PORT",
    "DATAOPS_REDSHIFT_DATABASE",
    "DATAOPS_REDSHIFT_USER",
    "DATAOPS_REDSHIFT_COPY_ROLE_ARN",
    "DATAOPS_S3_BUCKET",
    "DATAOPS_ARTIFACTS_BUCKET",
}


def test_task_definition_runs_the_dbt_image(templates):
    dbt = templates["dataops-dbt"]
    task = only(dbt, "AWS::ECS::TaskDefinition")["Properties"]
    assert task["Family"] == "dataops-dbt"
    assert task["RequiresCompatibilities"] == ["FARGATE"] and task["NetworkMode"] == "awsvpc"
    container = containers(dbt)["dbt"]
    image = text(container["Image"])
    assert "dataops-registries:ExportsOutputRefDbtRepository" in image and image.endswith('":latest"]]}')
    logging = container["LogConfiguration"]
    assert logging["LogDriver"] == "awslogs" and logging["Options"]["awslogs-stream-prefix"] == "dbt"
    assert only(dbt, "AWS::Logs::LogGroup")["Properties"]["LogGroupName"] == "/dataops/dbt"


def test_warehouse_settings_plain_password_secret(templates):
    container = containers(templates["dataops-dbt"])["dbt"]
    env = environment(container)
    assert set(env) == WAREHOUSE_VARIABLES | {"DATAOPS_BUNDLE_STORE"}
    assert env["DATAOPS_BUNDLE_STORE"] == "s3://dataops-artifacts-123456789012-us-east-1/bundles"
    # No project in the image or its settings: each run fetches its bundle (DATAOPS_BUNDLE_VERSION override).
    assert "DATAOPS_DBT_PROJECT_DIR" not in env and "DATAOPS_BUNDLE_VERSION" not in env
    assert env["DATAOPS_TARGET"] == "redshift" and env["DATAOPS_REDSHIFT_PORT"] == "5439"
    assert set(secrets(container)) == {"DATAOPS_REDSHIFT_PASSWORD"}
    assert text(secrets(container)["DATAOPS_REDSHIFT_PASSWORD"]).endswith(':password::"]]}')


def test_task_role_reads_bundles_and_only_writes_its_artifacts(templates):
    statements = statements_of_role(templates["dataops-dbt"], "DbtTaskRole")
    bucket = "arn:aws:s3:::dataops-artifacts-123456789012-us-east-1"
    assert sorted(statements, key=lambda s: s["Action"]) == [
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
