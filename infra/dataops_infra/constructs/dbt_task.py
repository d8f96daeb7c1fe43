"""The dbt task definition that the orchestration's ``ecs`` executor runs on Fargate."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from dataops_infra.constructs.fargate import acknowledge_image_pull, execution_role, task_definition, task_role
from dataops_infra.constructs.log_group import named_log_group
from dataops_infra.constructs.network import allow_https_out, allow_traffic
from dataops_infra.constructs.warehouse import WarehouseEndpoint
from dataops_infra.contract import (
    allow_reading_bundles,
    bundle_store,
    warehouse_environment,
)
from dataops_infra.nag import acknowledge, allow_pattern

CONTAINER_NAME = "dbt"
LOG_STREAM_PREFIX = "dbt"
ARTIFACTS_PREFIX = "dbt"
# dbt's partial-parse file per DAG, which each run reads and writes (dataops.airflow.executors.ecs).
PARSE_CACHE_PREFIX = "dbt-parse-cache"


@dataclass(frozen=True)
class DbtTaskProps:
    prefix: str
    vpc: ec2.IVpc
    warehouse: WarehouseEndpoint
    artifacts_bucket: s3.IBucket
    log_retention: logs.RetentionDays


class DbtTask(Construct):
    """What a dbt run is given that changes rarely: its task role, security group and log group.

    The task definition itself (image, sizes, environment) is a ``DbtTaskDefinition`` in the
    Airflow stack, so that Airflow names the exact revision of the same deploy.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: DbtTaskProps) -> None:
        super().__init__(scope, construct_id)
        self.family = f"{props.prefix}-dbt"
        self.log_group_name = f"/{props.prefix}/dbt"
        self.log_group = named_log_group(self, "Logs", name=self.log_group_name, retention=props.log_retention)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=props.vpc,
            allow_all_outbound=False,
            description="dbt tasks: no inbound; out to Redshift and, through the VPC endpoints, AWS APIs",
        )
        allow_https_out(self.security_group)
        allow_traffic(
            self.security_group, props.warehouse.security_group, props.warehouse.port, "dbt tasks to Redshift"
        )
        self.task_role = task_role(
            self,
            "TaskRole",
            description="dbt runs: read published bundles, write their artifacts under dbt/, keep dbt's parse under dbt-parse-cache/",
            # Fixed: the warehouse names dbt's database user after it (Serverless) or grants it one user.
            role_name=props.warehouse.clients["dbt"].role_name,
        )
        props.warehouse.allow_sign_in(self.task_role, "dbt")
        # Each run fetches the bundle version its DAG run started with (DATAOPS_BUNDLE_VERSION).
        allow_reading_bundles(self.task_role, props.artifacts_bucket)
        allow_pattern(
            self.task_role,
            ["s3:PutObject"],
            props.artifacts_bucket.arn_for_objects(f"{ARTIFACTS_PREFIX}/*"),
            "A dbt run writes its artifacts under dbt/<run id>/; PutObject needs a key pattern and is "
            "limited to that prefix of the artifacts bucket (no read, no delete).",
        )
        allow_pattern(
            self.task_role,
            ["s3:GetObject", "s3:PutObject"],
            props.artifacts_bucket.arn_for_objects(f"{PARSE_CACHE_PREFIX}/*"),
            "A dbt run reads and rewrites dbt's partial-parse file of its DAG under dbt-parse-cache/<dag>/; "
            "the keys are per DAG, so the actions need a key pattern, limited to that prefix (no delete).",
        )


@dataclass(frozen=True)
class DbtTaskDefinitionProps:
    dbt: DbtTask
    repository: ecr.IRepository
    image_tag: str
    warehouse: WarehouseEndpoint
    data_bucket: s3.IBucket
    artifacts_bucket: s3.IBucket
    cpu: int
    memory: int


class DbtTaskDefinition(Construct):
    """The dbt image at one commit: each deploy that changes it registers a new revision, whose ARN
    (``revision_arn``) the Airflow containers of the same deploy run."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DbtTaskDefinitionProps) -> None:
        super().__init__(scope, construct_id)
        dbt = props.dbt
        self.execution_role = execution_role(self, "ExecutionRole", description="Starts dbt tasks: image pull, logs")
        self.task_definition = task_definition(
            self,
            "TaskDefinition",
            family=dbt.family,
            cpu=props.cpu,
            memory=props.memory,
            role=dbt.task_role,
            execution=self.execution_role,
        )
        self.task_definition.add_container(
            "Dbt",
            container_name=CONTAINER_NAME,
            image=ecs.ContainerImage.from_ecr_repository(props.repository, props.image_tag),
            essential=True,
            environment={
                **warehouse_environment(
                    props.warehouse,
                    data_bucket_name=props.data_bucket.bucket_name,
                    artifacts_bucket_name=props.artifacts_bucket.bucket_name,
                ),
                **props.warehouse.client_environment("dbt"),
                # The default; Airflow's ecs executor sends the run's own store and version as overrides.
                "DATAOPS_BUNDLE_STORE": bundle_store(props.artifacts_bucket.bucket_name),
            },
            logging=ecs.LogDrivers.aws_logs(stream_prefix=LOG_STREAM_PREFIX, log_group=dbt.log_group),
            readonly_root_filesystem=False,
        )
        acknowledge_image_pull(self.execution_role)
        acknowledge(
            self.task_definition,
            "AwsSolutions-ECS2",
            "The plain variables are non-secret settings (warehouse host, port, database, user, bucket "
            "names); dbt signs in to Redshift with temporary IAM credentials, so no password is injected.",
        )

    @property
    def revision_arn(self) -> str:
        """The ARN of this deploy's revision (family:revision), which RunTask is given."""
        return self.task_definition.task_definition_arn
