from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from dataops_infra.constructs.celery_broker import CeleryBroker, CeleryBrokerProps
from dataops_infra.constructs.network import PlatformNetwork
from dataops_infra.constructs.platform_secrets import PlatformSecrets
from dataops_infra.settings import InfraSettings


class BrokerStack(Stack):
    """The Celery broker (ElastiCache)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: InfraSettings,
        network: PlatformNetwork,
        secrets: PlatformSecrets,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.broker = CeleryBroker(
            self,
            "Broker",
            props=CeleryBrokerProps(
                prefix=settings.prefix,
                vpc=network.vpc,
                isolated_subnet_ids=network.isolated_subnet_ids,
                auth_token=secrets.broker_auth_token,
                engine=settings.broker_engine,
                engine_version=settings.broker_engine_version,
                node_type=settings.broker_node_type,
                replicas=settings.broker_replicas,
            ),
        )
