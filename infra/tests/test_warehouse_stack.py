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
