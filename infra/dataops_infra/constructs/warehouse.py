"""The warehouse: Amazon Redshift, provisioned (the default) or Serverless.

Both variants sit in the isolated subnets, encrypt at rest, require TLS, log user
activity, route COPY traffic through the VPC (enhanced VPC routing and the S3
gateway endpoint), and can assume a role that reads the data bucket.

Nobody at run time holds the admin credentials: its secret lives here, rotates
every 30 days (the platform rotation function sets it through the Redshift API), and
is read only by the deploy-time custom resource that creates the platform's
users (``warehouse_users``). dbt and the Airflow workers sign in as their own
least-privilege users with temporary IAM credentials (``GetClusterCredentials``
on a provisioned cluster, ``GetCredentials`` on Serverless), so no runtime
password exists to leak or to rotate under a running task.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import ArnFormat, CfnResource, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_redshift as redshift
from aws_cdk import aws_redshiftserverless as serverless
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from dataops_infra.constructs.removal import removal_policy
from dataops_infra.constructs.secret_rotation import RotationTarget, SecretRotation, SecretRotationProps
from dataops_infra.constructs.warehouse_users import WarehouseUsers, WarehouseUsersProps, users_sql
from dataops_infra.nag import acknowledge, allow_pattern

REDSHIFT_PORT = 5439
AUDIT_LOGS = ["connectionlog", "userlog", "useractivitylog"]
REQUIRED_PARAMETERS = {"require_ssl": "true", "enable_user_activity_logging": "true"}
# Reachable from inside the VPC only; COPY reaches S3 through the VPC too (enhanced VPC routing).
PRIVATE_ENDPOINT = {"port": REDSHIFT_PORT, "publicly_accessible": False, "enhanced_vpc_routing": True}
ADMIN_ROTATION_DAYS = 30
# Clients verify the server's certificate and name (redshift_connector ships Amazon's CA bundle).
CLIENT_SSLMODE = "verify-full"


@dataclass(frozen=True)
class WarehouseClient:
    """A runtime identity in the warehouse: the IAM role that signs in and the database user it becomes."""

    role_name: str
    db_user: str


def warehouse_clients(prefix: str, serverless: bool) -> dict[str, WarehouseClient]:
    """dbt (owns the models' schemas, reads the sources) and the loader on the Airflow workers (owns the sources).

    Serverless names the database user after the IAM role (``IAMR:<role>``); a provisioned cluster
    lets the role ask for the one user its policy names.
    """
    user_prefix = prefix.replace("-", "_")
    roles = {"dbt": f"{prefix}-dbt-task", "loader": f"{prefix}-airflow-worker"}
    return {
        kind: WarehouseClient(role, f"IAMR:{role}" if serverless else f"{user_prefix}_{kind}")
        for kind, role in roles.items()
    }


@dataclass(frozen=True)
class WarehouseProps:
    prefix: str
    vpc: ec2.IVpc
    isolated_subnet_ids: list[str]
    data_bucket: s3.IBucket
    admin_user: str
    database: str
    deletion_protection: bool
    serverless: bool
    log_retention: logs.RetentionDays
    sources_schema: str = "tickit"
    models_schema: str = "analytics"


@dataclass(frozen=True)
class WarehouseEndpoint:
    """What clients (dbt, the loaders) need to connect with their own temporary credentials."""

    host: str
    port: int
    database: str
    security_group: ec2.ISecurityGroup
    copy_role: iam.IRole
    serverless: bool
    # The cluster identifier or the workgroup name (literal).
    name: str
    # Serverless: the workgroup's ARN (GetCredentials is granted on it).
    workgroup_arn: str | None
    clients: dict[str, WarehouseClient]

    def client_environment(self, kind: str) -> dict[str, str]:
        """The DATAOPS_REDSHIFT_* settings that sign ``kind`` in with IAM (no password) over verified TLS."""
        where = (
            {"DATAOPS_REDSHIFT_WORKGROUP": self.name} if self.serverless else {"DATAOPS_REDSHIFT_CLUSTER_ID": self.name}
        )
        return {
            "DATAOPS_REDSHIFT_METHOD": "iam",
            "DATAOPS_REDSHIFT_USER": self.clients[kind].db_user,
            "DATAOPS_REDSHIFT_SSLMODE": CLIENT_SSLMODE,
            **where,
        }

    def allow_sign_in(self, role: iam.IRole, kind: str) -> None:
        """Let ``role`` get temporary credentials for its own database user, and no other."""
        stack = Stack.of(role)
        if self.serverless:
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=["redshift-serverless:GetCredentials"], resources=[self.workgroup_arn])
            )
            return
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["redshift:GetClusterCredentials"],
                resources=[
                    stack.format_arn(
                        service="redshift",
                        resource="dbuser",
                        resource_name=f"{self.name}/{self.clients[kind].db_user}",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    ),
                    stack.format_arn(
                        service="redshift",
                        resource="dbname",
                        resource_name=f"{self.name}/{self.database}",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    ),
                ],
            )
        )


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
        self.clients = warehouse_clients(props.prefix, props.serverless)
        self.admin_secret = sm.Secret(
            self,
            "AdminCredentials",
            secret_name=f"{props.prefix}/warehouse/admin",
            description="Redshift admin login: read only by its rotation and the deploy-time user setup",
            removal_policy=removal_policy(props.deletion_protection),
            generate_secret_string=sm.SecretStringGenerator(
                secret_string_template=json.dumps({"username": props.admin_user}),
                generate_string_key="password",
                exclude_punctuation=True,
                include_space=False,
                # Redshift wants an upper-case letter, a lower-case letter and a digit.
                require_each_included_type=True,
                password_length=32,
            ),
        )
        self.admin_password = self.admin_secret.secret_value_from_json("password").unsafe_unwrap()

    def _finish(
        self,
        target: CfnResource,
        host: str,
        *,
        warehouse_arn: str,
        rotation: RotationTarget,
        workgroup_name: str | None = None,
    ) -> None:
        """Rotation of the admin secret, the platform's users, and the endpoint clients connect to."""
        props = self._props
        rotation = SecretRotation(
            self,
            "AdminRotation",
            props=SecretRotationProps(
                secret=self.admin_secret, log_retention=props.log_retention, target=rotation, password_field="password"
            ),
        )
        self.users = WarehouseUsers(
            self,
            "Users",
            props=WarehouseUsersProps(
                admin_secret=self.admin_secret,
                database=props.database,
                log_retention=props.log_retention,
                warehouse_arn=warehouse_arn,
                cluster_identifier=None if workgroup_name else self.name,
                workgroup_name=workgroup_name,
                statements=users_sql(
                    database=props.database,
                    dbt_user=self.clients["dbt"].db_user,
                    loader_user=self.clients["loader"].db_user,
                    sources_schema=props.sources_schema,
                    models_schema=props.models_schema,
                ),
            ),
        )
        self.users.node.add_dependency(target)
        rotation.schedule.node.add_dependency(target)
        self.endpoint = WarehouseEndpoint(
            host=host,
            port=REDSHIFT_PORT,
            database=props.database,
            security_group=self.security_group,
            copy_role=self.copy_role,
            serverless=props.serverless,
            name=self.name,
            workgroup_arn=warehouse_arn if workgroup_name else None,
            clients=self.clients,
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
        cluster_arn = Stack.of(self).format_arn(
            service="redshift", resource="cluster", resource_name=self.name, arn_format=ArnFormat.COLON_RESOURCE_NAME
        )
        self._finish(
            self.cluster,
            self.cluster.attr_endpoint_address,
            warehouse_arn=cluster_arn,
            rotation=RotationTarget(
                "redshift-cluster",
                self.name,
                iam.PolicyStatement(actions=["redshift:ModifyCluster"], resources=[cluster_arn]),
            ),
        )


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
        self._finish(
            self.workgroup,
            self.workgroup.attr_workgroup_endpoint_address,
            warehouse_arn=self.workgroup.attr_workgroup_workgroup_arn,
            workgroup_name=self.name,
            rotation=RotationTarget(
                "redshift-serverless",
                self.name,
                iam.PolicyStatement(
                    actions=["redshift-serverless:UpdateNamespace"],
                    resources=[self.namespace.attr_namespace_namespace_arn],
                ),
            ),
        )
