from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from dataops_infra.constructs.celery_broker import CeleryBroker, CeleryBrokerProps
from dataops_infra.constructs.network import PlatformNetwork
from dataops_infra.contract import airflow_service_paths
from dataops_infra.settings import InfraSettings
from dataops_infra.stacks.common import log_retention, removal_policy


class BrokerStack(Stack):
    """The Celery broker (ElastiCache)."""

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
        self.broker = CeleryBroker(
            self,
            "Broker",
            props=CeleryBrokerProps(
                prefix=settings.prefix,
                vpc=network.vpc,
                isolated_subnet_ids=network.isolated_subnet_ids,
                engine=settings.broker_engine,
                engine_version=settings.broker_engine_version,
                node_type=settings.broker_node_type,
                replicas=settings.broker_replicas,
                removal_policy=removal_policy(settings),
                log_retention=log_retention(settings),
                token_readers=airflow_service_paths(settings.prefix, ["scheduler", "worker"]),
            ),
        )
