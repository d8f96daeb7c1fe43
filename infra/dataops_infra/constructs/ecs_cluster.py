"""The ECS cluster of Airflow and dbt tasks, with a private DNS namespace for service discovery."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_servicediscovery as discovery
from constructs import Construct


class PlatformCluster(Construct):
    """Fargate cluster with Container Insights and a ``<prefix>.internal`` namespace."""

    def __init__(self, scope: Construct, construct_id: str, *, prefix: str, vpc: ec2.IVpc) -> None:
        super().__init__(scope, construct_id)
        self.namespace_name = f"{prefix}.internal"
        # The literal name (not a reference) so IAM policies and the dbt contract can name it.
        self.cluster_name = prefix
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            cluster_name=self.cluster_name,
            vpc=vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
            enable_fargate_capacity_providers=True,
            default_cloud_map_namespace=ecs.CloudMapNamespaceOptions(
                name=self.namespace_name, vpc=vpc, type=discovery.NamespaceType.DNS_PRIVATE
            ),
        )
