from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from dataops_infra.constructs.dbt_task import DbtTask, DbtTaskProps
from dataops_infra.constructs.network import PlatformNetwork
from dataops_infra.constructs.warehouse import WarehouseEndpoint
from dataops_infra.settings import InfraSettings
from dataops_infra.stacks.common import log_retention


class DbtStack(Stack):
    """What each dbt run is given: its role, security group and log group.

    The task definition is registered by the Airflow stack, in the same deploy whose
    containers name its exact revision.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: InfraSettings,
        network: PlatformNetwork,
        warehouse: WarehouseEndpoint,
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
                warehouse=warehouse,
                artifacts_bucket=artifacts_bucket,
                log_retention=log_retention(settings),
            ),
        )
        CfnOutput(self, "LogGroup", value=self.dbt.log_group.log_group_name, description="DATAOPS_ECS_LOG_GROUP")
