from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from dataops_infra.constructs.network import PlatformNetwork
from dataops_infra.constructs.warehouse import (
    ProvisionedWarehouse,
    ServerlessWarehouse,
    WarehouseEndpoint,
    WarehouseProps,
)
from dataops_infra.settings import InfraSettings
from dataops_infra.stacks.common import log_retention


class WarehouseStack(Stack):
    """Amazon Redshift: a provisioned cluster, or Serverless with INFRA_REDSHIFT_SERVERLESS=true."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: InfraSettings,
        network: PlatformNetwork,
        data_bucket: s3.IBucket,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        props = WarehouseProps(
            prefix=settings.prefix,
            vpc=network.vpc,
            isolated_subnet_ids=network.isolated_subnet_ids,
            data_bucket=data_bucket,
            admin_user=settings.redshift_admin_user,
            database=settings.redshift_database,
            deletion_protection=settings.deletion_protection,
            serverless=settings.redshift_serverless,
            log_retention=log_retention(settings),
        )
        if settings.redshift_serverless:
            warehouse = ServerlessWarehouse(
                self, "Serverless", props=props, base_rpu=settings.redshift_serverless_base_rpu
            )
        else:
            warehouse = ProvisionedWarehouse(
                self, "Provisioned", props=props, node_type=settings.redshift_node_type, nodes=settings.redshift_nodes
            )
        self.endpoint: WarehouseEndpoint = warehouse.endpoint
        CfnOutput(self, "Host", value=self.endpoint.host, description="DATAOPS_REDSHIFT_HOST")
        CfnOutput(
            self, "CopyRoleArn", value=self.endpoint.copy_role.role_arn, description="DATAOPS_REDSHIFT_COPY_ROLE_ARN"
        )
