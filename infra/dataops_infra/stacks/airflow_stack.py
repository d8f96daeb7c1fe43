from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
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
    MetadataDatabaseAccess,
    SignInSettings,
)
from dataops_infra.constructs.airflow_load_balancer import AirflowLoadBalancer, AirflowLoadBalancerProps
from dataops_infra.constructs.airflow_sign_in import AirflowSignIn, AirflowSignInProps
from dataops_infra.constructs.airflow_task_roles import AirflowTaskRoles, AirflowTaskRolesProps, DbtRunPermissions
from dataops_infra.constructs.celery_broker import BROKER_PORT, CeleryBroker
from dataops_infra.constructs.dbt_task import CONTAINER_NAME as DBT_CONTAINER_NAME
from dataops_infra.constructs.dbt_task import LOG_STREAM_PREFIX as DBT_LOG_STREAM_PREFIX
from dataops_infra.constructs.dbt_task import DbtTask, DbtTaskDefinition, DbtTaskDefinitionProps
from dataops_infra.constructs.ecs_cluster import PlatformCluster
from dataops_infra.constructs.fargate import acknowledge_image_pull, execution_role
from dataops_infra.constructs.log_group import named_log_group
from dataops_infra.constructs.metadata_database import POSTGRES_PORT, MetadataDatabase
from dataops_infra.constructs.network import PRIVATE, PlatformNetwork, allow_https_out, allow_traffic
from dataops_infra.constructs.platform_secrets import PlatformSecrets
from dataops_infra.constructs.warehouse import WarehouseEndpoint
from dataops_infra.contract import DbtTaskContract, warehouse_environment
from dataops_infra.nag import acknowledge, policy_of, wildcard_resource
from dataops_infra.settings import InfraSettings
from dataops_infra.stacks.common import log_retention, removal_policy

CELERY_APP = "airflow.providers.celery.executors.celery_executor.app"
CELERY_PING = f'celery --app {CELERY_APP} inspect ping -d "celery@$(hostname)"'
# The Celery queue depth the scheduler's sidecar publishes (infra/images/airflow/queue-metrics).
METRICS_NAMESPACE = "DataOps/Airflow"
QUEUE_METRICS_COMMAND = ["python", "/opt/dataops/bin/queue-metrics"]
# Scale in only after this many idle minutes (no task queued or running on any worker).
IDLE_MINUTES_BEFORE_SCALE_IN = 15


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
    dbt_repository: ecr.IRepository
    artifacts_bucket: s3.IBucket
    data_bucket: s3.IBucket
    access_logs_bucket: s3.IBucket


class AirflowStack(Stack):
    """Airflow 3 on ECS Fargate (API server behind an ALB, scheduler, DAG processor, triggerer, Celery
    workers) and the dbt task definition whose exact revision the workers run."""

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: InfraSettings, deps: AirflowDependencies, **kwargs
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        vpc = deps.network.vpc
        cluster = PlatformCluster(self, "Cluster", prefix=settings.prefix, vpc=vpc)
        self.cluster = cluster.cluster
        self.dbt_task = DbtTaskDefinition(
            self,
            "DbtTask",
            props=DbtTaskDefinitionProps(
                dbt=deps.dbt,
                repository=deps.dbt_repository,
                image_tag=settings.image_tag,
                warehouse=deps.warehouse,
                data_bucket=deps.data_bucket,
                artifacts_bucket=deps.artifacts_bucket,
                cpu=settings.dbt_cpu,
                memory=settings.dbt_memory,
            ),
        )
        self.dbt_contract = DbtTaskContract(
            cluster_name=cluster.cluster_name,
            task_definition_arn=self.dbt_task.revision_arn,
            container_name=DBT_CONTAINER_NAME,
            subnet_ids=deps.network.isolated_subnet_ids,
            security_group_ids=[deps.dbt.security_group.security_group_id],
            log_group_name=deps.dbt.log_group_name,
            log_stream_prefix=DBT_LOG_STREAM_PREFIX,
        )
        loader = deps.warehouse.clients["loader"]
        roles = AirflowTaskRoles(
            self,
            "TaskRoles",
            props=AirflowTaskRolesProps(
                artifacts_bucket=deps.artifacts_bucket,
                data_bucket=deps.data_bucket,
                metadata_db_secret_arn=deps.metadata_db.password_secret_arn,
                worker_role_name=loader.role_name,
                dbt=DbtRunPermissions(
                    cluster_name=self.dbt_contract.cluster_name,
                    task_definition_arn=self.dbt_task.revision_arn,
                    task_role=deps.dbt.task_role,
                    execution_role=self.dbt_task.execution_role,
                    log_group_name=self.dbt_contract.log_group_name,
                    log_stream_prefix=DBT_LOG_STREAM_PREFIX,
                ),
            ),
        )
        deps.warehouse.allow_sign_in(roles.worker, "loader")
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
        self.sign_in = AirflowSignIn(
            self,
            "SignIn",
            props=AirflowSignInProps(
                prefix=settings.prefix,
                account=settings.account,
                base_url=self.load_balancer.sign_in_url,
                removal_policy=removal_policy(settings),
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
                    broker_auth_token=deps.broker.auth_token,
                ),
                metadata_db=MetadataDatabaseAccess(
                    sql_alchemy_conn=deps.metadata_db.sql_alchemy_conn,
                    password_secret_arn=deps.metadata_db.password_secret_arn,
                ),
                broker_host=deps.broker.host,
                broker_port=BROKER_PORT,
                sign_in=SignInSettings(issuer=self.sign_in.issuer, client_id=self.sign_in.client.user_pool_client_id),
            )
        )
        self.log_group = named_log_group(
            self, "Logs", name=f"/{settings.prefix}/airflow", retention=log_retention(settings)
        )
        self.execution_role = execution_role(
            self, "ExecutionRole", description="Starts the Airflow tasks: image pull, logs, injected secrets"
        )
        runtime = AirflowRuntime(
            prefix=settings.prefix,
            cluster=self.cluster,
            image=ecs.ContainerImage.from_ecr_repository(deps.repository, settings.image_tag),
            environment=configuration.environment(),
            log_group=self.log_group,
            execution_role=self.execution_role,
        )
        control_plane = {
            "cpu": settings.airflow_cpu,
            "memory": settings.airflow_memory,
            "task_role": roles.control_plane,
        }
        database, celery = configuration.metadata_db_environment(), configuration.celery_environment()

        self.api_server = AirflowComponent(
            self,
            "ApiServer",
            runtime=runtime,
            spec=ComponentSpec(
                name=API_SERVER_DNS_NAME,
                command=["api-server"],
                init_command=["db", "migrate"],
                **control_plane,
                secrets=configuration.control_plane_secrets(),
                extra_environment=database,
                container_port=API_SERVER_PORT,
                register_in_namespace=True,
                health_check=http_health_check(API_SERVER_PORT, API_SERVER_HEALTH_PATH),
                health_check_grace_period=Duration.minutes(5),
                # Signs users in with the identity provider: the one component with a route out.
                subnets=PRIVATE,
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
                secrets=configuration.control_plane_secrets(celery=True),
                extra_environment={
                    **database,
                    **celery,
                    "DATAOPS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                    "DATAOPS_METRICS_DEPLOYMENT": settings.prefix,
                },
                health_check=http_health_check(SCHEDULER_HEALTH_PORT, SCHEDULER_HEALTH_PATH),
                sidecars={"queue-metrics": QUEUE_METRICS_COMMAND},
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
                secrets=configuration.control_plane_secrets(),
                extra_environment=database,
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
                secrets=configuration.control_plane_secrets(),
                extra_environment=database,
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
                # No metadata database: Airflow 3 workers talk to the execution API, Celery to the broker.
                extra_environment={
                    **celery,
                    **deps.warehouse.client_environment("loader"),
                    # Let Celery finish its warm shutdown (the image's dumb-init signals the worker only).
                    "DUMB_INIT_SETSID": "0",
                },
                stop_timeout=Duration.seconds(120),
                health_check=shell_health_check(CELERY_PING),
            ),
        )
        acknowledge_image_pull(self.execution_role)
        self._allow_queue_metrics(roles)
        self.load_balancer.route_to(self.api_server.service, container_name=API_SERVER_DNS_NAME, port=API_SERVER_PORT)
        self._scale_workers(settings)
        self._connect(deps)
        self._outputs()

    def _allow_queue_metrics(self, roles: AirflowTaskRoles) -> None:
        # PutMetricData acts on no resource; the condition keeps it to the platform's namespace.
        roles.control_plane.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
            )
        )
        acknowledge(
            policy_of(roles.control_plane),
            wildcard_resource("*"),
            "cloudwatch:PutMetricData supports no resource-level permission, so AWS accepts only Resource '*'; "
            "the cloudwatch:namespace condition limits it to the DataOps/Airflow queue-depth metrics.",
        )

    def queue_metric(self, name: str, prefix: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=name,
            dimensions_map={"Deployment": prefix},
            statistic="Maximum",
            period=Duration.minutes(1),
        )

    def _scale_workers(self, settings: InfraSettings) -> None:
        """Out on the Celery backlog, in only when no task is queued or running, between the configured bounds."""
        scaling = self.worker.service.auto_scale_task_count(
            min_capacity=settings.worker_min, max_capacity=settings.worker_max
        )
        queued = self.queue_metric("QueuedTasks", settings.prefix)
        running = self.queue_metric("RunningTasks", settings.prefix)
        scaling.scale_on_metric(
            "QueueBacklog",
            metric=queued,
            scaling_steps=[
                autoscaling.ScalingInterval(upper=0, change=0),
                autoscaling.ScalingInterval(lower=1, change=1),
                autoscaling.ScalingInterval(lower=10, change=2),
            ],
            adjustment_type=autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            evaluation_periods=2,
            cooldown=Duration.minutes(2),
        )
        busy = cloudwatch.MathExpression(
            expression="queued + running",
            using_metrics={"queued": queued, "running": running},
            label="Queued and running Celery tasks",
            period=Duration.minutes(1),
        )
        scaling.scale_on_metric(
            "Idle",
            metric=busy,
            scaling_steps=[
                autoscaling.ScalingInterval(upper=0, change=-1),
                autoscaling.ScalingInterval(lower=1, change=0),
            ],
            adjustment_type=autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            evaluation_periods=IDLE_MINUTES_BEFORE_SCALE_IN,
            cooldown=Duration.minutes(5),
        )

    def _connect(self, deps: AirflowDependencies) -> None:
        """Only the ports each party needs, in and out (the ALB → API server rule comes with the target group)."""
        api, worker, triggerer = self.api_server, self.worker, self.triggerer
        for component in (self.api_server, self.scheduler, self.dag_processor, self.triggerer, self.worker):
            allow_https_out(component.security_group)
        # The control plane reads and writes the metadata database; the workers never do.
        for component in (self.api_server, self.scheduler, self.dag_processor, self.triggerer):
            allow_traffic(
                component.security_group,
                deps.metadata_db.security_group,
                POSTGRES_PORT,
                f"Airflow {component.node.id} to PostgreSQL",
            )
        for component in (self.scheduler, self.worker):
            allow_traffic(
                component.security_group,
                deps.broker.security_group,
                BROKER_PORT,
                f"Airflow {component.node.id} to the Celery broker",
            )
        allow_traffic(
            worker.security_group, deps.warehouse.security_group, deps.warehouse.port, "Airflow workers to Redshift"
        )
        allow_traffic(worker.security_group, api.security_group, API_SERVER_PORT, "Workers to the execution API")
        allow_traffic(
            api.security_group, worker.security_group, WORKER_LOG_SERVER_PORT, "API server reads live task logs"
        )
        allow_traffic(
            api.security_group,
            triggerer.security_group,
            TRIGGERER_LOG_SERVER_PORT,
            "API server reads live trigger logs",
        )

    def _outputs(self) -> None:
        CfnOutput(self, "AirflowUrl", value=self.load_balancer.base_url)
        CfnOutput(self, "UserPoolId", value=self.sign_in.user_pool.user_pool_id, description="Airflow users and groups")
        for name, value in self.dbt_contract.environment().items():
            CfnOutput(self, name.replace("_", ""), value=value, description=name)
