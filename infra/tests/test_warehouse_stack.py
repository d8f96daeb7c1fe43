from __future__ import annotations

from aws_cdk.assertions import Template

from tests.helpers import only, resources, text


def test_provisioned_cluster_is_private_encrypted_audited(templates):
    warehouse = templates["dataops-warehouse"]
    cluster = only(warehouse, "AWS::Redshift::Cluster")
    props = cluster["Properties"]
    assert props["Encrypted"] is True
    assert props["PubliclyAccessible"] is False
    assert props["EnhancedVpcRouting"] is True
    assert props["Port"] == 5439
    assert props["MasterUsername"] == "dataops_admin"
    assert "{{resolve:secretsmanager:" in text(props["MasterUserPassword"])
    assert props["LoggingProperties"]["LogDestinationType"] == "cloudwatch"
    assert cluster["DeletionPolicy"] == "Snapshot"
    parameters = only(warehouse, "AWS::Redshift::ClusterParameterGroup")["Properties"]["Parameters"]
    assert {"ParameterName": "require_ssl", "ParameterValue": "true"} in parameters
    subnets = only(warehouse, "AWS::Redshift::ClusterSubnetGroup")["Properties"]["SubnetIds"]
    assert all("isolated" in text(subnet) for subnet in subnets)


def test_copy_role_reads_the_data_bucket_only(templates):
    warehouse = templates["dataops-warehouse"]
    [role] = [r["Properties"] for k, r in resources(warehouse, "AWS::IAM::Role").items() if "CopyRole" in k]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "redshift.amazonaws.com"}
    [policy] = [p for k, p in resources(warehouse, "AWS::IAM::Policy").items() if "CopyRole" in k]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    bucket = "arn:aws:s3:::dataops-data-123456789012-us-east-1"
    assert {(text(s["Action"]), text(s["Resource"])) for s in statements} == {
        ("s3:GetObject", f"{bucket}/*"),
        ('["s3:GetBucketLocation", "s3:ListBucket"]', bucket),
    }


def test_serverless_option(serverless_platform):
    warehouse = Template.from_stack(serverless_platform.warehouse)
    assert not resources(warehouse, "AWS::Redshift::Cluster")
    workgroup = only(warehouse, "AWS::RedshiftServerless::Workgroup")["Properties"]
    assert workgroup["PubliclyAccessible"] is False and workgroup["EnhancedVpcRouting"] is True
    assert len(workgroup["SubnetIds"]) == 3  # Redshift Serverless requires three zones
    assert {"ParameterKey": "require_ssl", "ParameterValue": "true"} in workgroup["ConfigParameters"]
    namespace_resource = only(warehouse, "AWS::RedshiftServerless::Namespace")
    assert namespace_resource["DeletionPolicy"] == "Delete"  # deletion protection is off in this variant
    namespace = namespace_resource["Properties"]
    assert "{{resolve:secretsmanager:" in text(namespace["AdminUserPassword"])
    assert set(namespace["LogExports"]) == {"connectionlog", "userlog", "useractivitylog"}


def test_the_admin_secret_rotates_and_only_the_deploy_time_setup_reads_it(templates):
    warehouse = templates["dataops-warehouse"]
    secret = only(warehouse, "AWS::SecretsManager::Secret")["Properties"]
    assert secret["Name"] == "dataops/warehouse/admin"
    schedule = only(warehouse, "AWS::SecretsManager::RotationSchedule")["Properties"]
    assert schedule["RotationRules"] == {"ScheduleExpression": "rate(30 days)"}
    rotation = [f for k, f in resources(warehouse, "AWS::Lambda::Function").items() if "AdminRotation" in k]
    variables = rotation[0]["Properties"]["Environment"]["Variables"]
    assert (variables["TARGET_KIND"], variables["TARGET_ID"], variables["PASSWORD_FIELD"]) == (
        "redshift-cluster",
        "dataops-warehouse",
        "password",
    )
    # Nothing outside this stack reads it: no other template names the secret.
    for name, template in templates.items():
        if name != "dataops-warehouse":
            assert "WarehouseAdmin" not in text(template.to_json()) and "warehouse/admin" not in text(
                template.to_json()
            )


USERS_SQL = [
    'CREATE USER "dataops_dbt" PASSWORD DISABLE',
    'CREATE USER "dataops_loader" PASSWORD DISABLE',
    'GRANT CREATE ON DATABASE "dataops" TO "dataops_loader", "dataops_dbt"',
    'CREATE SCHEMA IF NOT EXISTS "tickit" AUTHORIZATION "dataops_loader"',
    'ALTER SCHEMA "tickit" OWNER TO "dataops_loader"',
    'CREATE SCHEMA IF NOT EXISTS "tickit_staging" AUTHORIZATION "dataops_loader"',
    'ALTER SCHEMA "tickit_staging" OWNER TO "dataops_loader"',
    'GRANT USAGE ON SCHEMA "tickit" TO "dataops_dbt"',
    'GRANT SELECT ON ALL TABLES IN SCHEMA "tickit" TO "dataops_dbt"',
    'ALTER DEFAULT PRIVILEGES FOR USER "dataops_loader" IN SCHEMA "tickit" GRANT SELECT ON TABLES TO "dataops_dbt"',
    'CREATE SCHEMA IF NOT EXISTS "analytics" AUTHORIZATION "dataops_dbt"',
    'ALTER SCHEMA "analytics" OWNER TO "dataops_dbt"',
]


def test_least_privilege_users_are_created_at_deploy_time_with_this_sql(templates):
    """dbt reads the sources and owns the models' schema; the loader owns the sources; neither has a password."""
    warehouse = templates["dataops-warehouse"]
    users = only(warehouse, "Custom::WarehouseUsers")
    props = users["Properties"]
    assert props["Statements"] == USERS_SQL
    assert (props["ClusterIdentifier"], props["Database"]) == ("dataops-warehouse", "dataops")
    assert "AdminCredentials" in text(props["SecretArn"]) and "ProvisionedCluster" in text(users["DependsOn"])
    [policy] = [p for k, p in resources(warehouse, "AWS::IAM::Policy").items() if "Users" in k]
    actions = {text(s["Action"]): s["Resource"] for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert (
        actions["redshift-data:ExecuteStatement"] == "arn:aws:redshift:us-east-1:123456789012:cluster:dataops-warehouse"
    )
    assert "superuser" not in text(USERS_SQL).lower() and "PASSWORD '" not in text(USERS_SQL)


def test_users_sql_refuses_names_it_does_not_expect():
    import pytest

    from dataops_infra.constructs.warehouse_users import users_sql

    with pytest.raises(ValueError, match="not a user or schema name"):
        users_sql(
            database="dataops", dbt_user='x"; DROP USER y; --', loader_user="l", sources_schema="s", models_schema="m"
        )


def test_serverless_users_are_named_after_the_iam_roles(serverless_platform):
    warehouse = Template.from_stack(serverless_platform.warehouse)
    props = only(warehouse, "Custom::WarehouseUsers")["Properties"]
    assert props["WorkgroupName"] == "dataops-warehouse" and "ClusterIdentifier" not in props
    assert props["Statements"][:2] == [
        'CREATE USER "IAMR:dataops-dbt-task" PASSWORD DISABLE',
        'CREATE USER "IAMR:dataops-airflow-worker" PASSWORD DISABLE',
    ]
    rotation = [f for k, f in resources(warehouse, "AWS::Lambda::Function").items() if "AdminRotation" in k]
    assert rotation[0]["Properties"]["Environment"]["Variables"]["TARGET_KIND"] == "redshift-serverless"
    dbt = Template.from_stack(serverless_platform.dbt)
    [policy] = [p for k, p in resources(dbt, "AWS::IAM::Policy").items() if "DbtTaskRole" in k]
    assert "redshift-serverless:GetCredentials" in text(policy)
