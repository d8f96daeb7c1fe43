"""The Celery broker: an ElastiCache (Valkey or Redis OSS) replication group with TLS and AUTH.

The AUTH token is generated into a secret here and rotated every 30 days with
ElastiCache's ROTATE strategy: the new token and the previous one are both
accepted until the next rotation, and the scheduler and workers (which read the
token at start) are restarted right after, so no running client loses its broker.
The broker also holds Celery's results (database 1): nothing Celery does needs
the metadata database.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from dataops_infra.constructs.secret_rotation import RotationTarget, SecretRotation, SecretRotationProps
from dataops_infra.nag import acknowledge

BROKER_PORT = 6379
COLON = ArnFormat.COLON_RESOURCE_NAME


@dataclass(frozen=True)
class CeleryBrokerProps:
    prefix: str
    vpc: ec2.IVpc
    isolated_subnet_ids: list[str]
    engine: str
    engine_version: str
    node_type: str
    replicas: int
    removal_policy: RemovalPolicy
    log_retention: logs.RetentionDays
    # ECS services ("cluster/service") that read the token at start: restarted after each rotation.
    token_readers: list[str]


class CeleryBroker(Construct):
    """Encrypted in transit and at rest; clients must present the AUTH token over TLS."""

    def __init__(self, scope: Construct, construct_id: str, *, props: CeleryBrokerProps) -> None:
        super().__init__(scope, construct_id)
        self.auth_token = sm.Secret(
            self,
            "AuthToken",
            secret_name=f"{props.prefix}/broker/auth-token",
            description="AUTH token of the Celery broker (ElastiCache)",
            removal_policy=props.removal_policy,
            # Letters and digits only, as ElastiCache accepts and a URL embeds without escaping.
            generate_secret_string=sm.SecretStringGenerator(
                exclude_punctuation=True, include_space=False, password_length=64
            ),
        )
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
        self.replication_group_id = f"{props.prefix}-broker"
        self.replication_group = elasticache.CfnReplicationGroup(
            self,
            "ReplicationGroup",
            replication_group_id=self.replication_group_id,
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
            auth_token=self.auth_token.secret_value.unsafe_unwrap(),  # a {{resolve:...}} reference
            auto_minor_version_upgrade=True,
        )
        self.replication_group.node.add_dependency(subnet_group)
        self._acknowledge(multi_az)
        self.host = self.replication_group.attr_primary_end_point_address
        group_arn = Stack.of(self).format_arn(
            service="elasticache",
            resource="replicationgroup",
            resource_name=self.replication_group_id,
            arn_format=COLON,
        )
        rotation = SecretRotation(
            self,
            "TokenRotation",
            props=SecretRotationProps(
                secret=self.auth_token,
                log_retention=props.log_retention,
                password_length=64,
                target=RotationTarget(
                    "elasticache-auth",
                    self.replication_group_id,
                    iam.PolicyStatement(actions=["elasticache:ModifyReplicationGroup"], resources=[group_arn]),
                ),
                restart_services=props.token_readers,
            ),
        )
        rotation.schedule.node.add_dependency(self.replication_group)

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
