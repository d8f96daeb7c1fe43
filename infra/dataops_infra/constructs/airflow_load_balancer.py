"""The entry to the Airflow UI and API: an ALB restricted to configured CIDRs.

Internet-facing (public subnets) or internal (private subnets). Settings refuse an
internet-facing load balancer that admits CIDRs without a certificate, so sign-ins
never cross the internet in plain HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from dataops_infra.constructs.airflow_configuration import API_SERVER_HEALTH_PATH
from dataops_infra.constructs.buckets import LOAD_BALANCER_LOGS_PREFIX
from dataops_infra.constructs.network import PRIVATE, PUBLIC


@dataclass(frozen=True)
class AirflowLoadBalancerProps:
    vpc: ec2.IVpc
    internet_facing: bool
    allowed_cidrs: list[str]
    certificate_arn: str | None
    public_hostname: str | None
    access_logs_bucket: s3.IBucket
    deletion_protection: bool


class AirflowLoadBalancer(Construct):
    """HTTPS (with HTTP redirecting to it) when a certificate is configured, else HTTP."""

    def __init__(self, scope: Construct, construct_id: str, *, props: AirflowLoadBalancerProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=props.vpc,
            allow_all_outbound=False,
            description="Airflow load balancer: HTTP(S) from the allowed CIDRs only",
        )
        if props.internet_facing and props.allowed_cidrs and not props.certificate_arn:
            raise ValueError("an internet-facing load balancer that admits CIDRs needs a certificate (HTTPS)")
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=props.vpc,
            internet_facing=props.internet_facing,
            vpc_subnets=PUBLIC if props.internet_facing else PRIVATE,
            security_group=self.security_group,
            deletion_protection=props.deletion_protection,
            drop_invalid_header_fields=True,
        )
        # Attributes rather than log_access_logs(): the bucket policy that admits the
        # log delivery lives with the bucket, in the storage stack.
        self.load_balancer.set_attribute("access_logs.s3.enabled", "true")
        self.load_balancer.set_attribute("access_logs.s3.bucket", props.access_logs_bucket.bucket_name)
        self.load_balancer.set_attribute("access_logs.s3.prefix", LOAD_BALANCER_LOGS_PREFIX)

        if props.certificate_arn:
            self.listener = self.load_balancer.add_listener(
                "Https",
                port=443,
                protocol=elbv2.ApplicationProtocol.HTTPS,
                open=False,
                certificates=[elbv2.ListenerCertificate.from_arn(props.certificate_arn)],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            )
            self.load_balancer.add_listener(
                "HttpRedirect",
                port=80,
                protocol=elbv2.ApplicationProtocol.HTTP,
                open=False,
                default_action=elbv2.ListenerAction.redirect(protocol="HTTPS", port="443", permanent=True),
            )
            ports = (80, 443)
        else:
            self.listener = self.load_balancer.add_listener(
                "Http", port=80, protocol=elbv2.ApplicationProtocol.HTTP, open=False
            )
            ports = (80,)
        for cidr in props.allowed_cidrs:
            for port in ports:
                self.security_group.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(port), f"Airflow UI from {cidr}")

    @property
    def sign_in_url(self) -> str:
        """Where the identity provider returns users: always https (Cognito accepts no other), so a load
        balancer without a certificate has no working sign-in (settings refuse it once CIDRs are open)."""
        return f"https://{self._props.public_hostname or self.load_balancer.load_balancer_dns_name}"

    @property
    def base_url(self) -> str:
        """The URL users open (Airflow's [api] base_url)."""
        if self._props.public_hostname:
            return f"https://{self._props.public_hostname}"
        scheme = "https" if self._props.certificate_arn else "http"
        return f"{scheme}://{self.load_balancer.load_balancer_dns_name}"

    def route_to(self, service: ecs.FargateService, *, container_name: str, port: int) -> None:
        self.listener.add_targets(
            "ApiServer",
            port=port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[service.load_balancer_target(container_name=container_name, container_port=port)],
            deregistration_delay=Duration.seconds(30),
            health_check=elbv2.HealthCheck(
                path=API_SERVER_HEALTH_PATH,
                healthy_http_codes="200",
                interval=Duration.seconds(30),
                timeout=Duration.seconds(10),
                healthy_threshold_count=2,
                unhealthy_threshold_count=5,
            ),
        )
