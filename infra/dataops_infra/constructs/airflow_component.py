"""One Airflow component (API server, scheduler, ...) as a Fargate service."""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from dataops_infra.constructs.fargate import task_definition
from dataops_infra.constructs.network import ISOLATED
from dataops_infra.contract import airflow_service_name
from dataops_infra.nag import acknowledge


@dataclass(frozen=True)
class AirflowRuntime:
    """What every component shares."""

    prefix: str
    cluster: ecs.ICluster
    image: ecs.ContainerImage
    environment: dict[str, str]
    log_group: logs.ILogGroup
    # One execution role starts every component (ECS uses it; no container holds it).
    execution_role: iam.IRole


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    command: list[str]
    cpu: int
    memory: int
    task_role: iam.IRole
    secrets: dict[str, ecs.Secret]
    health_check: ecs.HealthCheck
    desired_count: int = 1
    container_port: int | None = None
    extra_environment: dict[str, str] = field(default_factory=dict)
    # Runs to completion before the main container starts (e.g. database migrations).
    init_command: list[str] | None = None
    stop_timeout: Duration | None = None
    register_in_namespace: bool = False
    health_check_grace_period: Duration | None = None
    # The API server signs users in with the identity provider (private subnets, NAT); the rest
    # runs in the isolated subnets, which reach only the VPC endpoints and the S3 gateway.
    subnets: ec2.SubnetSelection = field(default_factory=lambda: ISOLATED)
    # Containers beside the main one (name -> command), e.g. the scheduler's queue-depth publisher.
    sidecars: dict[str, list[str]] = field(default_factory=dict)


def shell_health_check(command: str, *, start_period_seconds: int = 120) -> ecs.HealthCheck:
    return ecs.HealthCheck(
        command=["CMD-SHELL", command],
        interval=Duration.seconds(30),
        timeout=Duration.seconds(20),
        retries=5,
        start_period=Duration.seconds(start_period_seconds),
    )


def http_health_check(port: int, path: str) -> ecs.HealthCheck:
    """Healthy while the container answers ``path`` on ``port`` with a success status."""
    return shell_health_check(f"curl --fail --silent http://localhost:{port}{path}")


def job_health_check(job_type: str) -> ecs.HealthCheck:
    """Healthy while this container's Airflow job of ``job_type`` keeps its heartbeat (``airflow jobs check``)."""
    return shell_health_check(f"airflow jobs check --job-type {job_type} --local")


class AirflowComponent(Construct):
    """Task definition, security group and service of one component, logging to CloudWatch."""

    def __init__(self, scope: Construct, construct_id: str, *, runtime: AirflowRuntime, spec: ComponentSpec) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=runtime.cluster.vpc,
            allow_all_outbound=False,
            description=f"Airflow {spec.name}: only the traffic it needs, in and out",
        )
        self.task_definition = task_definition(
            self,
            "TaskDefinition",
            family=f"{runtime.prefix}-airflow-{spec.name}",
            cpu=spec.cpu,
            memory=spec.memory,
            role=spec.task_role,
            execution=runtime.execution_role,
        )
        environment = {**runtime.environment, **spec.extra_environment}

        def add_container(construct_id: str, name: str, command: list[str], **options) -> ecs.ContainerDefinition:
            """The image with the component's configuration, logging to streams named after the container."""
            return self.task_definition.add_container(
                construct_id,
                container_name=name,
                image=runtime.image,
                command=command,
                environment=environment,
                secrets=spec.secrets,
                logging=ecs.LogDrivers.aws_logs(stream_prefix=name, log_group=runtime.log_group),
                **options,
            )

        self.container = add_container(
            "Main",
            spec.name,
            spec.command,
            health_check=spec.health_check,
            port_mappings=[ecs.PortMapping(container_port=spec.container_port)] if spec.container_port else None,
            stop_timeout=spec.stop_timeout,
        )
        for name, command in spec.sidecars.items():
            add_container(f"Sidecar{name.title().replace('-', '')}", name, command, essential=True)
        if spec.init_command:
            init = add_container("Init", f"{spec.name}-init", spec.init_command, essential=False)
            self.container.add_container_dependencies(
                ecs.ContainerDependency(container=init, condition=ecs.ContainerDependencyCondition.SUCCESS)
            )
        self.service = ecs.FargateService(
            self,
            "Service",
            service_name=airflow_service_name(spec.name),
            cluster=runtime.cluster,
            task_definition=self.task_definition,
            desired_count=spec.desired_count,
            security_groups=[self.security_group],
            vpc_subnets=spec.subnets,
            assign_public_ip=False,
            # Airflow runs several schedulers, processors and triggerers safely: roll forward first.
            min_healthy_percent=100,
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            health_check_grace_period=spec.health_check_grace_period,
            cloud_map_options=ecs.CloudMapOptions(name=spec.name, dns_ttl=Duration.seconds(10))
            if spec.register_in_namespace
            else None,
        )
        acknowledge(
            self.task_definition,
            "AwsSolutions-ECS2",
            "The plain variables are non-secret settings (executor, URLs without credentials, resource names "
            "for the dbt ECS runs); every credential is an ECS secret or, for the metadata database, read "
            "from Secrets Manager per connection.",
        )
