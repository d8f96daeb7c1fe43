"""The Celery broker: an ElastiCache (Valkey or Redis OSS) replication group with TLS and AUTH."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from dataops_infra.constructs.connection_url_secret import ConnectionUrlSecret, password_reference
from dataops_infra.nag import acknowledge

BROKER_PORT = 6379


@dataclass(frozen=True)
class CeleryBrokerProps:
    prefix: str
    vpc: ec2.IVpc
    isolated_subnet_ids: list[str]
    auth_token: sm.ISecret
    engine: str
    engine_version: str
    node_type: str
    replicas: int


class CeleryBroker(Construct):
    """Encrypted in transit and at rest; clients must present the AUTH token over TLS."""

    def __init__(self, scope: Construct, construct_id: str, *, props: CeleryBrokerProps) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=props.vpc,
            allow_all_outbound=False,
            description="Celery broker: Redis protocol from the scheduler and the workers only",
        )
        subnet_group = elasticache.CfnSubnetGroup(
            self,
            "Subnets",
            description="Isolated subnets of the Celery broker",
            subnet_ids=props.isolated_subnet_ids,
            cache_subnet_group_name=f"{props.prefix}-broker",
        )
        multi_az = props.replicas > 0
        self.replication_group = elasticache.CfnReplicationGroup(
            self,
            "ReplicationGroup",
            replication_group_id=f"{props.prefix}-broker",
            replication_group_description="Airflow Celery broker",
            engine=props.engine,
            engine_version=props.engine_version,
            cache_node_type=props.node_type,
            num_cache_clusters=1 + props.replicas,
            automatic_failover_enabled=multi_az,
            multi_az_enabled=multi_az,
            port=BROKER_PORT,
            cache_subnet_group_name=subnet_group.ref,
            security_group_ids=[self.security_group.security_group_id],
            transit_encryption_enabled=True,
            at_rest_encryption_enabled=True,
            auth_token=password_reference(props.auth_token),
            auto_minor_version_upgrade=True,
        )
        self.replication_group.node.add_dependency(subnet_group)
        self._acknowledge(multi_az)

        endpoint = f"{self.replication_group.attr_primary_end_point_address}:{BROKER_PORT}"
        self.urls = ConnectionUrlSecret(
            self,
            "Urls",
            secret_name=f"{props.prefix}/broker/airflow-urls",
            description="Airflow's Celery broker URL (TLS, AUTH token)",
            urls={
                # rediss:// is TLS; Celery requires ssl_cert_reqs with it. ElastiCache's
                # certificate chains to Amazon's CA, which the images trust.
                "broker_url": f"rediss://:{password_reference(props.auth_token)}@{endpoint}/0?ssl_cert_reqs=CERT_REQUIRED",
            },
        ).secret

    def _acknowledge(self, multi_az: bool) -> None:
        acknowledge(
            self.replication_group,
            "AwsSolutions-AEC5",
            "Port 6379 is kept: the broker is in isolated subnets, admits only the scheduler and workers' "
            "security groups and requires TLS plus an AUTH token; a non-default port adds nothing.",
        )
        if not multi_az:
            acknowledge(
                self.replication_group,
                "AwsSolutions-AEC4",
                "One node by configuration (INFRA_BROKER_REPLICAS=0): the broker holds only queued task "
                "messages, which Airflow's scheduler re-queues after task_queued_timeout if a node is "
                "replaced. Replicas add Multi-AZ.",
            )
