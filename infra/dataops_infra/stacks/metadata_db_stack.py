from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from dataops_infra.constructs.metadata_database import METADATA_DB_USER, MetadataDatabase, MetadataDatabaseProps
from dataops_infra.constructs.network import PlatformNetwork
from dataops_infra.settings import InfraSettings
from dataops_infra.stacks.common import log_retention


class MetadataDbStack(Stack):
    """Airflow's metadata database (RDS PostgreSQL)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: InfraSettings,
        network: PlatformNetwork,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.database = MetadataDatabase(
            self,
            "MetadataDb",
            props=MetadataDatabaseProps(
                prefix=settings.prefix,
                vpc=network.vpc,
                username=METADATA_DB_USER,
                instance_type=settings.metadata_db_instance_type,
                storage_gb=settings.metadata_db_storage_gb,
                multi_az=settings.metadata_db_multi_az,
                backup_days=settings.metadata_db_backup_days,
                deletion_protection=settings.deletion_protection,
                log_retention=log_retention(settings),
            ),
        )
