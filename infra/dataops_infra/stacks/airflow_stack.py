from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from dataops_infra.constructs.airflow_component import (
    AirflowComponent,
    AirflowRuntime,
    ComponentSpec,
    http_health_check,
    job_health_check,
    shell_health_check,
)
from dataops_infra.constructs.airflow_configuration import (
    API_SERVER_DNS_NAME,
    API_SERVER_HEALTH_PATH,
    API_SERVER_PORT,
    SCHEDULER_HEALTH_PATH,
    SCHEDULER_HEALTH_PORT,
    TRIGGERER_LOG_SERVER_PORT,
    WORKER_LOG_SERVER_PORT,
    AirflowConfiguration,
    AirflowConfigurationProps,
    AirflowSecrets,
)
from dataops_infra.constructs.airflow_load_balancer import AirflowLoadBalancer, AirflowLoadBalancerProps
from dataops_infra.constructs.airflow_task_roles import AirflowTaskRoles, AirflowTaskRolesProps, DbtRunPermissions
from dataops_infra.constructs.celery_broker import BROKER_PORT, CeleryBroker
from dataops_infra.constructs.dbt_task import CONTAINER_NAME as DBT_CONTAINER_NAME
from dataops_infra.constructs.dbt_task import LOG_STREAM_PREFIX as DBT_LOG_STREAM_PREFIX
from dataops_infra.constructs.dbt_task import DbtTask
from dataops_infra.constructs.ecs_cluster import PlatformCluster
from dataops_infra.constructs.log_group import named_log_group
from dataops_infra.constructs.metadata_database import POSTGRES_PORT, MetadataDatabase
from dataops_infra.constructs.network import PlatformNetwork, allow_ingress
from dataops_infra.constructs.platform_secrets import PlatformSecrets
from dataops_infra.constructs.warehouse import WarehouseEndpoint
from dataops_infra.contract import DbtTaskContract, warehouse_environment
from dataops_infra.settings import InfraSettings
from dataops_infra.stacks.common import log_retention

API_SERVER_COMMAND = ["bash", "/opt/dataops/bin/start-api-server"]
CELERY_APP = "airflow.providers.celery.executors.celery_executor.app"
CELERY_PING = f'celery --app {CELERY_APP} inspect ping -d "celery@$(hostname)"'


@dataclass(frozen=True)
class AirflowDependencies:
    """What the Airflow stack consumes from the stacks deployed before it."""

    network: PlatformNetwork
    secrets: PlatformSecrets
    metadata_db: MetadataDatabase
    broker: CeleryBroker
    warehouse: WarehouseEndpoint
    dbt: DbtTask
    repository: ecr.IRepository
    artifacts_bucket: s3.IBucket
    data_bucket: s3.IBucket
    access_logs_bucket: s3.IBucket


class AirflowStack(Stack):
    """Airflow 3 on ECS Fargate: API server behind an ALB, scheduler, DAG processor, triggerer, Celery workers."""

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: InfraSettings, deps: AirflowDependencies, **kwargs
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        vpc = deps.network.vpc
        cluster = PlatformCluster(self, "Cluster", prefix=settings.prefix, vpc=vpc)
        self.cluster = cluster.cluster
        self.dbt_contract = DbtTaskContract(
            cluster_name=cluster.cluster_name,
            task_family=deps.dbt.family,
            container_name=DBT_CONTAINER_NAME,
            subnet_ids=deps.network.private_subnet_ids,
            security_group_ids=[deps.dbt.security_group.security_group_id],
            log_group_name=deps.dbt.log_group_name,
            log_stream_prefix=DBT_LOG_STREAM_PREFIX,
        )
        roles = AirflowTaskRoles(
            self,
            "TaskRoles",
            props=AirflowTaskRolesProps(
                artifacts_bucket=deps.artifacts_bucket,
                data_bucket=deps.data_bucket,
                dbt=DbtRunPermissions(
                    cluster_name=self.dbt_contract.cluster_name,
                    task_family=deps.dbt.family,
                    task_role=deps.dbt.task_role,
                    execution_role=deps.dbt.task_definition.obtain_execution_role(),
                    log_group_name=self.dbt_contract.log_group_name,
                    log_stream_prefix=DBT_LOG_STREAM_PREFIX,
                ),
            ),
        )
        self.load_balancer = AirflowLoadBalancer(
            self,
            "LoadBalancer",
            props=AirflowLoadBalancerProps(
                vpc=vpc,
                internet_facing=settings.internet_facing,
                allowed_cidrs=list(settings.allowed_cidrs),
                certificate_arn=settings.certificate_arn,
                public_hostname=settings.public_hostname,
                access_logs_bucket=deps.access_logs_bucket,
                deletion_protection=settings.deletion_protection,
            ),
        )
        configuration = AirflowConfiguration(
            AirflowConfigurationProps(
                region=settings.region,
                namespace_name=cluster.namespace_name,
                base_url=self.load_balancer.base_url,
                artifacts_bucket_name=deps.artifacts_bucket.bucket_name,
                dataops_environment={
                    **self.dbt_contract.environment(),
                    **warehouse_environment(
                        deps.warehouse,
                        data_bucket_name=deps.data_bucket.bucket_name,
                        artifacts_bucket_name=deps.artifacts_bucket.bucket_name,
                    ),
                },
                secrets=AirflowSecrets(
                    fernet_key=deps.secrets.fernet_key,
                    jwt_secret=deps.secrets.jwt_secret,
                    api_secret_key=deps.secrets.api_secret_key,
                    admin_password=deps.secrets.admin_password,
                    metadata_db_urls=deps.metadata_db.urls,
                    broker_urls=deps.broker.urls,
                    warehouse_credentials=deps.warehouse.credentials,
                ),
            )
        )
        self.log_group = named_log_group(
            self, "Logs", name=f"/{settings.prefix}/airflow", retention=log_retention(settings)
        )
        runtime = AirflowRuntime(
            prefix=settings.prefix,
            cluster=self.cluster,
            image=ecs.ContainerImage.from_ecr_repository(deps.repository, settings.image_tag),
            environment=configuration.environment(),
            log_group=self.log_group,
        )
        control_plane = {
            "cpu": settings.airflow_cpu,
            "memory": settings.airflow_memory,
            "task_role": roles.control_plane,
        }

        self.api_server = AirflowComponent(
            self,
            "ApiServer",
            runtime=runtime,
            spec=ComponentSpec(
                name=API_SERVER_DNS_NAME,
                # Writes the admin password from its secret, then runs `airflow api-server` (images/airflow).
                command=API_SERVER_COMMAND,
                init_command=["db", "migrate"],
                **control_plane,
                secrets=configuration.api_server_secrets(),
                container_port=API_SERVER_PORT,
                register_in_namespace=True,
                health_check=http_health_check(API_SERVER_PORT, API_SERVER_HEALTH_PATH),
                health_check_grace_period=Duration.minutes(5),
            ),
        )
        self.scheduler = AirflowComponent(
            self,
            "Scheduler",
            runtime=runtime,
            spec=ComponentSpec(
                name="scheduler",
                command=["scheduler"],
                **control_plane,
                secrets=configuration.scheduler_secrets(),
                health_check=http_health_check(SCHEDULER_HEALTH_PORT, SCHEDULER_HEALTH_PATH),
            ),
        )
        self.dag_processor = AirflowComponent(
            self,
            "DagProcessor",
            runtime=runtime,
            spec=ComponentSpec(
                name="dag-processor",
                command=["dag-processor"],
                **control_plane,
                secrets=configuration.dag_processor_secrets(),
                health_check=job_health_check("DagProcessorJob"),
            ),
        )
        self.triggerer = AirflowComponent(
            self,
            "Triggerer",
            runtime=runtime,
            spec=ComponentSpec(
                name="triggerer",
                command=["triggerer"],
                **control_plane,
                secrets=configuration.triggerer_secrets(),
                health_check=job_health_check("TriggererJob"),
            ),
        )
        self.worker = AirflowComponent(
            self,
            "Worker",
            runtime=runtime,
            spec=ComponentSpec(
                name="worker",
                command=["celery", "worker"],
                cpu=settings.worker_cpu,
                memory=settings.worker_memory,
                task_role=roles.worker,
                secrets=configuration.worker_secrets(),
                desired_count=settings.worker_min,
                # Let Celery finish its warm shutdown (the image's dumb-init signals the worker only).
                extra_environment={"DUMB_INIT_SETSID": "0"},
                stop_timeout=Duration.seconds(120),
                health_check=shell_health_check(CELERY_PING),
            ),
        )
        self.load_balancer.route_to(self.api_server.service, container_name=API_SERVER_DNS_NAME, port=API_SERVER_PORT)
        self._scale_workers(settings)
        self._connect(deps)
        self._outputs()

    def _scale_workers(self, settings: InfraSettings) -> None:
        scaling = self.worker.service.auto_scale_task_count(
            min_capacity=settings.worker_min, max_capacity=settings.worker_max
        )
        scaling.scale_on_cpu_utilization(
            "Cpu",
            target_utilization_percent=settings.worker_target_cpu_percent,
            scale_out_cooldown=Duration.minutes(1),
            scale_in_cooldown=Duration.minutes(10),
        )

    def _connect(self, deps: AirflowDependencies) -> None:
        """Only the ports each party needs (the ALB → API server rule comes with the target group)."""
        api, worker, triggerer = (
            self.api_server.security_group,
            self.worker.security_group,
            self.triggerer.security_group,
        )
        for component in (self.api_server, self.scheduler, self.dag_processor, self.triggerer, self.worker):
            allow_ingress(
                deps.metadata_db.security_group,
                component.security_group,
                POSTGRES_PORT,
                f"Airflow {component.node.id} to PostgreSQL",
            )
        for component in (self.scheduler, self.worker):
            allow_ingress(
                deps.broker.security_group,
                component.security_group,
                BROKER_PORT,
                f"Airflow {component.node.id} to the Celery broker",
            )
        allow_ingress(deps.warehouse.security_group, worker, deps.warehouse.port, "Airflow workers to Redshift")
        allow_ingress(api, worker, API_SERVER_PORT, "Workers to the execution API")
        allow_ingress(worker, api, WORKER_LOG_SERVER_PORT, "API server reads live task logs")
        allow_ingress(triggerer, api, TRIGGERER_LOG_SERVER_PORT, "API server reads live trigger logs")

    def _outputs(self) -> None:
        CfnOutput(self, "AirflowUrl", value=self.load_balancer.base_url)
        for name, value in self.dbt_contract.environment().items():
            CfnOutput(self, name.replace("_", ""), value=value, description=name)
