"""Airflow's metadata database: RDS PostgreSQL in the isolated subnets.

RDS manages the password in Secrets Manager and rotates it (every 7 days, RDS's
managed rotation): no template, URL or task definition holds it. Airflow's
``sql_alchemy_conn`` names user, host and verified TLS (``sslmode=verify-full``
against the RDS CA bundle in the image); every new connection reads the current
password from the secret (``dataops.aws.metadata_db``), so a rotation interrupts
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, SecretValue
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from constructs import Construct

from dataops_infra.constructs.log_group import named_log_group
from dataops_infra.constructs.network import ISOLATED
from dataops_infra.constructs.removal import removal_policy
from dataops_infra.nag import acknowledge

DATABASE_NAME = "airflow"
# The master user Airflow signs in as (the only user of this instance).
METADATA_DB_USER = "airflow"
POSTGRES_PORT = 5432
# A major version only: RDS applies the current minor version and later minor upgrades.
POSTGRES_VERSION = rds.PostgresEngineVersion.VER_17
# Where the Airflow image keeps Amazon RDS's CA bundle (infra/images/airflow/certs).
RDS_CA_BUNDLE = "/opt/dataops/certs/rds-global-bundle.pem"


@dataclass(frozen=True)
class MetadataDatabaseProps:
    prefix: str
    vpc: ec2.IVpc
    username: str
    instance_type: str
    storage_gb: int
    multi_az: bool
    backup_days: int
    deletion_protection: bool
    log_retention: logs.RetentionDays


class MetadataDatabase(Construct):
    """The RDS instance and the secret holding Airflow's two URLs for it."""

    def __init__(self, scope: Construct, construct_id: str, *, props: MetadataDatabaseProps) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=props.vpc,
            allow_all_outbound=False,
            description="Airflow metadata database: PostgreSQL from the Airflow services only",
        )
        identifier = f"{props.prefix}-metadata"
        # Created before RDS would create it without retention (RDS names it after the instance).
        log_group = named_log_group(
            self, "PostgresLogs", name=f"/aws/rds/instance/{identifier}/postgresql", retention=props.log_retention
        )
        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            instance_identifier=identifier,
            engine=rds.DatabaseInstanceEngine.postgres(version=POSTGRES_VERSION),
            instance_type=ec2.InstanceType(props.instance_type),
            vpc=props.vpc,
            vpc_subnets=ISOLATED,
            security_groups=[self.security_group],
            port=POSTGRES_PORT,
            # Replaced below by RDS's managed password (ManageMasterUserPassword).
            credentials=rds.Credentials.from_password(props.username, SecretValue.unsafe_plain_text("unused")),
            database_name=DATABASE_NAME,
            storage_type=rds.StorageType.GP3,
            allocated_storage=props.storage_gb,
            max_allocated_storage=props.storage_gb * 5,
            storage_encrypted=True,
            multi_az=props.multi_az,
            backup_retention=Duration.days(props.backup_days),
            deletion_protection=props.deletion_protection,
            removal_policy=removal_policy(props.deletion_protection, kept=RemovalPolicy.SNAPSHOT),
            publicly_accessible=False,
            auto_minor_version_upgrade=True,
            cloudwatch_logs_exports=["postgresql"],
        )
        self.instance.node.add_dependency(log_group)
        database = self.instance.node.default_child
        database.add_property_deletion_override("MasterUserPassword")
        database.manage_master_user_password = True
        self._acknowledge(props)
        # The secret RDS keeps the current password in (JSON: username, password).
        self.password_secret_arn = database.attr_master_user_secret_secret_arn
        endpoint = f"{self.instance.db_instance_endpoint_address}:{POSTGRES_PORT}/{DATABASE_NAME}"
        # No password: each connection reads it from the secret (dataops.aws.metadata_db).
        self.sql_alchemy_conn = (
            f"postgresql+psycopg2://{props.username}@{endpoint}?sslmode=verify-full&sslrootcert={RDS_CA_BUNDLE}"
        )

    def _acknowledge(self, props: MetadataDatabaseProps) -> None:
        acknowledge(
            self.instance,
            "AwsSolutions-RDS11",
            "Port 5432 is kept: the instance is in isolated subnets and its security group admits only "
            "the Airflow services, so a non-default port would add no protection.",
        )
        if not props.multi_az:
            acknowledge(
                self.instance,
                "AwsSolutions-RDS3",
                "Single-AZ by configuration (INFRA_METADATA_DB_MULTI_AZ=false) to halve the cost; Airflow's "
                "metadata is recoverable from the automated backups. Production sets it true.",
            )
        if not props.deletion_protection:
            acknowledge(
                self.instance,
                "AwsSolutions-RDS10",
                "Deletion protection is off by configuration (INFRA_DELETION_PROTECTION=false) for a "
                "disposable environment that `make destroy` must be able to remove.",
            )
