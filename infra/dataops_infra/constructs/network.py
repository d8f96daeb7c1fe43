"""The VPC: public, private (egress through NAT) and isolated subnets, AWS API endpoints, flow logs.

Only the load balancer (public) and the API server (private: it signs users in with the
identity provider) have a route out of the VPC. The other Airflow components, the dbt
tasks, the databases, the broker and the warehouse run in the isolated subnets, whose
only ways out are the VPC endpoints of the AWS APIs they call and the S3 gateway.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

PUBLIC = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)
PRIVATE = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
ISOLATED = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

# The AWS APIs the tasks call: image pull, logs, secrets (every start); ECS (workers run dbt
# tasks); CloudWatch metrics (the Celery queue depth). The isolated subnets reach nothing else.
INTERFACE_ENDPOINTS = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "Ecs": ec2.InterfaceVpcEndpointAwsService.ECS,
    "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
}
# dbt and the workers ask the warehouse's API for temporary credentials.
WAREHOUSE_ENDPOINTS = {
    False: ("Redshift", ec2.InterfaceVpcEndpointAwsService.REDSHIFT),
    True: ("RedshiftServerless", ec2.InterfaceVpcEndpointAwsService.REDSHIFT_SERVERLESS),
}


@dataclass(frozen=True)
class NetworkProps:
    cidr: str
    zone_count: int
    # Explicit zone names, or empty to let CDK choose ``zone_count`` of them.
    zones: tuple[str, ...]
    nat_gateways: int
    redshift_serverless: bool
    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy


class PlatformNetwork(Construct):
    """A VPC whose tasks reach AWS APIs through endpoints and the internet through NAT."""

    def __init__(self, scope: Construct, construct_id: str, *, props: NetworkProps) -> None:
        super().__init__(scope, construct_id)
        zones = {"availability_zones": list(props.zones)} if props.zones else {"max_azs": props.zone_count}
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(props.cidr),
            nat_gateways=props.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
                ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
            # True would add a Lambda-backed custom resource; nothing uses the default group.
            restrict_default_security_group=False,
            **zones,
        )
        flow_log_group = logs.LogGroup(
            self, "FlowLogs", retention=props.log_retention, removal_policy=props.removal_policy
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[PRIVATE, ISOLATED])
        endpoints = {
            **INTERFACE_ENDPOINTS,
            WAREHOUSE_ENDPOINTS[props.redshift_serverless][0]: WAREHOUSE_ENDPOINTS[props.redshift_serverless][1],
        }
        for name, service in endpoints.items():
            endpoint = self.vpc.add_interface_endpoint(
                name, service=service, subnets=PRIVATE, private_dns_enabled=True, open=False
            )
            # HTTPS from inside the VPC only (the literal range, which reviewers and cdk-nag can read).
            endpoint.connections.allow_default_port_from(ec2.Peer.ipv4(props.cidr), "HTTPS from the VPC")

    @property
    def private_subnet_ids(self) -> list[str]:
        return self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnet_ids

    @property
    def isolated_subnet_ids(self) -> list[str]:
        return self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids


def allow_traffic(source: ec2.SecurityGroup, target: ec2.ISecurityGroup, port: int, description: str) -> None:
    """``source`` (outbound closed) may reach ``target`` on ``port``: its egress rule and the target's ingress."""
    source.add_egress_rule(target, ec2.Port.tcp(port), description)
    allow_ingress(target, source, port, description)


def allow_https_out(source: ec2.SecurityGroup) -> None:
    """HTTPS out: from the isolated subnets that reaches only the VPC endpoints and the S3 gateway (their routes)."""
    source.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to the VPC endpoints and the S3 gateway")


def allow_ingress(target: ec2.ISecurityGroup, source: ec2.ISecurityGroup, port: int, description: str) -> None:
    """Let ``source`` reach ``target`` on ``port``: one ingress rule, nothing else.

    The rule is created beside ``source`` (``remote_rule``), so a consumer stack
    opens the provider's group without the provider depending on the consumer.
    """
    target.add_ingress_rule(source, ec2.Port.tcp(port), description, remote_rule=True)
