"""Airflow's metadata database: RDS PostgreSQL in the isolated subnets."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from dataops_infra.constructs.connection_url_secret import ConnectionUrlSecret, password_reference
from dataops_infra.constructs.log_group import named_log_group
from dataops_infra.constructs.network import ISOLATED
from dataops_infra.constructs.removal import removal_policy
from dataops_infra.nag import acknowledge

DATABASE_NAME = "airflow"
POSTGRES_PORT = 5432
# A major version only: RDS applies the current minor version and later minor upgrades.
POSTGRES_VERSION = rds.PostgresEngineVersion.VER_17


@dataclass(frozen=True)
class MetadataDatabaseProps:
    prefix: str
    vpc: ec2.IVpc
    # A JSON secret {"username", "password"}; the password is letters and digits only.
    credentials: sm.ISecret
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
            # A dynamic reference to the password rather than from_secret(): attaching the secret
            # would make the secrets stack depend on this one.
            credentials=rds.Credentials.from_password(
                props.username, props.credentials.secret_value_from_json("password")
            ),
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
        self._acknowledge(props)

        endpoint = f"{self.instance.db_instance_endpoint_address}:{POSTGRES_PORT}/{DATABASE_NAME}"
        credentials = f"{props.username}:{password_reference(props.credentials, 'password')}"
        self.urls = ConnectionUrlSecret(
            self,
            "Urls",
            secret_name=f"{props.prefix}/metadata-db/airflow-urls",
            description="Airflow's SQLAlchemy and Celery result-backend URLs for the metadata database",
            urls={
                "sql_alchemy_conn": f"postgresql+psycopg2://{credentials}@{endpoint}?sslmode=require",
                "result_backend": f"db+postgresql://{credentials}@{endpoint}?sslmode=require",
            },
        ).secret

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
