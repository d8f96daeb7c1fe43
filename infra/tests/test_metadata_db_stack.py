from __future__ import annotations

import json

from tests.helpers import only, text


def test_postgres_encrypted_isolated_backed_up_protected(templates):
    database = only(templates["dataops-metadata-db"], "AWS::RDS::DBInstance")
    props = database["Properties"]
    assert props["Engine"] == "postgres" and props["EngineVersion"] == "17"
    assert props["StorageEncrypted"] is True
    assert props["PubliclyAccessible"] is False
    assert props["BackupRetentionPeriod"] == 7
    assert props["DeletionProtection"] is True
    assert database["DeletionPolicy"] == "Snapshot"
    assert props["EnableCloudwatchLogsExports"] == ["postgresql"]
    # The password is a dynamic reference resolved by CloudFormation, never a literal.
    assert "{{resolve:secretsmanager:" in text(props["MasterUserPassword"])
    subnets = only(templates["dataops-metadata-db"], "AWS::RDS::DBSubnetGroup")["Properties"]["SubnetIds"]
    assert len(subnets) == 2 and all("isolated" in text(subnet) for subnet in subnets)


def test_database_security_group_has_no_inline_ingress(templates):
    group = only(templates["dataops-metadata-db"], "AWS::EC2::SecurityGroup")["Properties"]
    # Ingress comes from the Airflow stack's rules (see test_airflow_stack), nothing else.
    assert "SecurityGroupIngress" not in group


def test_connection_urls_are_assembled_from_references(templates):
    secret = only(templates["dataops-metadata-db"], "AWS::SecretsManager::Secret")["Properties"]
    assert secret["Name"] == "dataops/metadata-db/airflow-urls"
    rendered = text(secret["SecretString"])
    assert "postgresql+psycopg2://airflow:{{resolve:secretsmanager:" in rendered
    assert "db+postgresql://airflow:{{resolve:secretsmanager:" in rendered
    assert rendered.count("SecretString:password::}}") == 2
    assert "sslmode=require" in rendered
    assert json.loads(json.dumps(secret))  # plain JSON: no Python objects leaked into the template


def test_serverless_variant_is_multi_az_and_unprotected(serverless_platform):
    from aws_cdk.assertions import Template

    database = only(Template.from_stack(serverless_platform.metadata_db), "AWS::RDS::DBInstance")
    assert database["Properties"]["MultiAZ"] is True
    assert database["Properties"]["DeletionProtection"] is False
    assert database["DeletionPolicy"] == "Delete"
