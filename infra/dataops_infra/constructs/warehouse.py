"""The warehouse: Amazon Redshift, provisioned (the default) or Serverless.

Both variants sit in the isolated subnets, encrypt at rest, require TLS, log user
activity, route COPY traffic through the VPC (enhanced VPC routing and the S3
gateway endpoint), and can assume a role that reads the data bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_redshift as redshift
from aws_cdk import aws_redshiftserverless as serverless
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from dataops_infra.constructs.connection_url_secret import password_reference
from dataops_infra.constructs.removal import removal_policy
from dataops_infra.nag import acknowledge, allow_pattern

REDSHIFT_PORT = 5439
AUDIT_LOGS = ["connectionlog", "userlog", "useractivitylog"]
REQUIRED_PARAMETERS = {"require_ssl": "true", "enable_user_activity_logging": "true"}
# Reachable from inside the VPC only; COPY reaches S3 through the VPC too (enhanced VPC routing).
PRIVATE_ENDPOINT = {"port": REDSHIFT_PORT, "publicly_accessible": False, "enhanced_vpc_routing": True}


@dataclass(frozen=True)
class WarehouseProps:
    prefix: str
    vpc: ec2.IVpc
    isolated_subnet_ids: list[str]
    data_bucket: s3.IBucket
    # A JSON secret {"username", "password"}.
    admin_credentials: sm.ISecret
    admin_user: str
    database: str
    deletion_protection: bool


@dataclass(frozen=True)
class WarehouseEndpoint:
    """What clients (dbt, the loaders) need to connect; the password stays in ``credentials``."""

    host: str
    port: int
    database: str
    user: str
    credentials: sm.ISecret
    security_group: ec2.ISecurityGroup
    copy_role: iam.IRole


class CopyRole(Construct):
    """The role Redshift assumes to COPY from the data bucket (read-only)."""

    def __init__(self, scope: Construct, construct_id: str, *, data_bucket: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("redshift.amazonaws.com"),
            description="Assumed by Redshift to COPY from the data bucket",
        )
        allow_pattern(
            self.role,
            ["s3:GetObject"],
            data_bucket.arn_for_objects("*"),
            "COPY reads any object of the dedicated data bucket (its prefixes are chosen per load); "
            "object-level actions need a key pattern and the role is read-only.",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["s3:ListBucket", "s3:GetBucketLocation"], resources=[data_bucket.bucket_arn])
        )


class _Warehouse(Construct):
    """What both variants share: the security group, the COPY role and the endpoint clients connect to."""

    def __init__(self, scope: Construct, construct_id: str, *, props: WarehouseProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        self.name = f"{props.prefix}-warehouse"
        # Outbound stays open: with enhanced VPC routing, COPY reaches S3 through the gateway
        # endpoint; the isolated subnets have no route anywhere else.
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=props.vpc,
            allow_all_outbound=True,
            description="Redshift: port 5439 from dbt tasks and Airflow workers only",
        )
        self.copy_role = CopyRole(self, "CopyRole", data_bucket=props.data_bucket).role
        self.admin_password = password_reference(props.admin_credentials, "password")

    def _endpoint(self, host: str) -> WarehouseEndpoint:
        props = self._props
        return WarehouseEndpoint(
            host=host,
            port=REDSHIFT_PORT,
            database=props.database,
            user=props.admin_user,
            credentials=props.admin_credentials,
            security_group=self.security_group,
            copy_role=self.copy_role,
        )


class ProvisionedWarehouse(_Warehouse):
    """A provisioned Redshift cluster (single node unless more nodes are configured)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, props: WarehouseProps, node_type: str, nodes: int
    ) -> None:
        super().__init__(scope, construct_id, props=props)
        subnet_group = redshift.CfnClusterSubnetGroup(
            self, "Subnets", description="Isolated subnets of the warehouse", subnet_ids=props.isolated_subnet_ids
        )
        parameters = redshift.CfnClusterParameterGroup(
            self,
            "Parameters",
            description="TLS only, user activity logged",
            parameter_group_family="redshift-1.0",
            parameters=[
                redshift.CfnClusterParameterGroup.ParameterProperty(parameter_name=k, parameter_value=v)
                for k, v in REQUIRED_PARAMETERS.items()
            ],
        )
        self.cluster = redshift.CfnCluster(
            self,
            "Cluster",
            cluster_identifier=self.name,
            cluster_type="multi-node" if nodes > 1 else "single-node",
            number_of_nodes=nodes if nodes > 1 else None,
            node_type=node_type,
            db_name=props.database,
            master_username=props.admin_user,
            master_user_password=self.admin_password,
            **PRIVATE_ENDPOINT,
            encrypted=True,
            cluster_subnet_group_name=subnet_group.ref,
            vpc_security_group_ids=[self.security_group.security_group_id],
            cluster_parameter_group_name=parameters.ref,
            iam_roles=[self.copy_role.role_arn],
            automated_snapshot_retention_period=7,
            allow_version_upgrade=True,
            logging_properties=redshift.CfnCluster.LoggingPropertiesProperty(
                log_destination_type="cloudwatch", log_exports=AUDIT_LOGS
            ),
        )
        self.cluster.apply_removal_policy(removal_policy(props.deletion_protection, kept=RemovalPolicy.SNAPSHOT))
        acknowledge(
            self.cluster,
            "AwsSolutions-RS4",
            "Port 5439 is kept: dbt profiles and the loaders default to it, the cluster is in isolated "
            "subnets and its security group admits only the dbt tasks and Airflow workers.",
        )
        self.endpoint = self._endpoint(self.cluster.attr_endpoint_address)


class ServerlessWarehouse(_Warehouse):
    """A Redshift Serverless namespace and workgroup (billed per RPU-hour while queries run)."""

    def __init__(self, scope: Construct, construct_id: str, *, props: WarehouseProps, base_rpu: int) -> None:
        super().__init__(scope, construct_id, props=props)
        self.namespace = serverless.CfnNamespace(
            self,
            "Namespace",
            namespace_name=self.name,
            db_name=props.database,
            admin_username=props.admin_user,
            admin_user_password=self.admin_password,
            iam_roles=[self.copy_role.role_arn],
            default_iam_role_arn=self.copy_role.role_arn,
            log_exports=AUDIT_LOGS,
        )
        # CloudFormation cannot snapshot a namespace on delete: a protected one is retained.
        self.namespace.apply_removal_policy(removal_policy(props.deletion_protection))
        self.workgroup = serverless.CfnWorkgroup(
            self,
            "Workgroup",
            workgroup_name=self.name,
            namespace_name=self.namespace.namespace_name,
            base_capacity=base_rpu,
            **PRIVATE_ENDPOINT,
            subnet_ids=props.isolated_subnet_ids,
            security_group_ids=[self.security_group.security_group_id],
            config_parameters=[
                serverless.CfnWorkgroup.ConfigParameterProperty(parameter_key=k, parameter_value=v)
                for k, v in REQUIRED_PARAMETERS.items()
            ],
        )
        self.workgroup.node.add_dependency(self.namespace)
        self.endpoint = self._endpoint(self.workgroup.attr_workgroup_endpoint_address)
