from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_s3 as s3
from constructs import Construct

from dataops_infra.constructs.dbt_task import DbtTask, DbtTaskProps
from dataops_infra.constructs.network import PlatformNetwork
from dataops_infra.constructs.warehouse import WarehouseEndpoint
from dataops_infra.settings import InfraSettings
from dataops_infra.stacks.common import log_retention


class DbtStack(Stack):
    """The dbt task definition that Airflow runs on ECS for each dbt step."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: InfraSettings,
        network: PlatformNetwork,
        repository: ecr.IRepository,
        warehouse: WarehouseEndpoint,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.dbt = DbtTask(
            self,
            "Dbt",
            props=DbtTaskProps(
                prefix=settings.prefix,
                vpc=network.vpc,
                repository=repository,
                image_tag=settings.image_tag,
                warehouse=warehouse,
                data_bucket=data_bucket,
                artifacts_bucket=artifacts_bucket,
                cpu=settings.dbt_cpu,
                memory=settings.dbt_memory,
                log_retention=log_retention(settings),
            ),
        )
        CfnOutput(self, "TaskDefinitionFamily", value=self.dbt.family, description="DATAOPS_ECS_TASK_DEFINITION")
        CfnOutput(self, "LogGroup", value=self.dbt.log_group.log_group_name, description="DATAOPS_ECS_LOG_GROUP")
