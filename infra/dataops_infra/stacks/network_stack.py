from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from dataops_infra.constructs.network import NetworkProps, PlatformNetwork
from dataops_infra.settings import InfraSettings
from dataops_infra.stacks.common import log_retention, removal_policy


class NetworkStack(Stack):
    """The VPC, its endpoints and flow logs: changes almost never."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: InfraSettings, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.network = PlatformNetwork(
            self,
            "Network",
            props=NetworkProps(
                cidr=settings.vpc_cidr,
                zone_count=settings.zone_count,
                zones=tuple(settings.availability_zones),
                nat_gateways=settings.nat_gateways,
                redshift_serverless=settings.redshift_serverless,
                log_retention=log_retention(settings),
                removal_policy=removal_policy(settings),
            ),
        )
