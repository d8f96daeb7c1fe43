"""The VPC: public, private (egress through NAT) and isolated subnets, AWS API endpoints, flow logs."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

PUBLIC = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)
PRIVATE = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
ISOLATED = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

# The AWS APIs that Fargate tasks call on every start (image pull, logs, secrets);
# endpoints keep that traffic off the NAT gateway and inside the VPC.
INTERFACE_ENDPOINTS = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
}


@dataclass(frozen=True)
class NetworkProps:
    cidr: str
    zone_count: int
    # Explicit zone names, or empty to let CDK choose ``zone_count`` of them.
    zones: tuple[str, ...]
    nat_gateways: int
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
        for name, service in INTERFACE_ENDPOINTS.items():
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


def allow_ingress(target: ec2.ISecurityGroup, source: ec2.ISecurityGroup, port: int, description: str) -> None:
    """Let ``source`` reach ``target`` on ``port``: one ingress rule, nothing else.

    The rule is created beside ``source`` (``remote_rule``), so a consumer stack
    opens the provider's group without the provider depending on the consumer.
    """
    target.add_ingress_rule(source, ec2.Port.tcp(port), description, remote_rule=True)
