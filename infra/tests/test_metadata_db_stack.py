from __future__ import annotations

import json

from tests.helpers import only, resources, text


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
    # RDS keeps and rotates the password in Secrets Manager: no template holds it, even as a reference.
    assert props["ManageMasterUserPassword"] is True and "MasterUserPassword" not in props
    subnets = only(templates["dataops-metadata-db"], "AWS::RDS::DBSubnetGroup")["Properties"]["SubnetIds"]
    assert len(subnets) == 2 and all("isolated" in text(subnet) for subnet in subnets)


def test_database_security_group_has_no_inline_ingress(templates):
    group = only(templates["dataops-metadata-db"], "AWS::EC2::SecurityGroup")["Properties"]
    # Ingress comes from the Airflow stack's rules (see test_airflow_stack), nothing else.
    assert "SecurityGroupIngress" not in group


def test_no_secret_is_stored_beside_the_database(templates):
    """No derived URL secret: Airflow reads RDS's rotating password per connection (test_airflow_stack)."""
    metadata = templates["dataops-metadata-db"]
    assert not resources(metadata, "AWS::SecretsManager::Secret")
    assert "resolve:secretsmanager" not in json.dumps(metadata.to_json())


def test_serverless_variant_is_multi_az_and_unprotected(serverless_platform):
    from aws_cdk.assertions import Template

    database = only(Template.from_stack(serverless_platform.metadata_db), "AWS::RDS::DBInstance")
    assert database["Properties"]["MultiAZ"] is True
    assert database["Properties"]["DeletionProtection"] is False
    assert database["DeletionPolicy"] == "Delete"
