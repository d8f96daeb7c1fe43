"""The dbt task definition that the orchestration's ``ecs`` executor runs on Fargate."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from dataops_infra.constructs.fargate import task_definition, task_role
from dataops_infra.constructs.log_group import named_log_group
from dataops_infra.constructs.network import allow_ingress
from dataops_infra.constructs.warehouse import WarehouseEndpoint
from dataops_infra.contract import (
    WAREHOUSE_PASSWORD_VARIABLE,
    allow_reading_bundles,
    bundle_store,
    warehouse_environment,
)
from dataops_infra.nag import acknowledge, allow_pattern

CONTAINER_NAME = "dbt"
LOG_STREAM_PREFIX = "dbt"
ARTIFACTS_PREFIX = "dbt"


@dataclass(frozen=True)
class DbtTaskProps:
    prefix: str
    vpc: ec2.IVpc
    repository: ecr.IRepository
    image_tag: str
    warehouse: WarehouseEndpoint
    data_bucket: s3.IBucket
    artifacts_bucket: s3.IBucket
    cpu: int
    memory: int
    log_retention: logs.RetentionDays


class DbtTask(Construct):
    """Task definition, task role, security group and log group of a dbt run."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DbtTaskProps) -> None:
        super().__init__(scope, construct_id)
        self.family = f"{props.prefix}-dbt"
        self.log_group_name = f"/{props.prefix}/dbt"
        self.log_group = named_log_group(self, "Logs", name=self.log_group_name, retention=props.log_retention)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=props.vpc,
            allow_all_outbound=True,
            description="dbt tasks: no inbound; out to Redshift and to AWS APIs for image, logs and secrets",
        )
        allow_ingress(
            props.warehouse.security_group, self.security_group, props.warehouse.port, "dbt tasks to Redshift"
        )
        self.task_role = task_role(
            self,
            "TaskRole",
            description="dbt runs: read published bundles, write their artifacts under dbt/ of the artifacts bucket",
        )
        # Each run fetches the bundle version its DAG run started with (DATAOPS_BUNDLE_VERSION).
        allow_reading_bundles(self.task_role, props.artifacts_bucket)
        allow_pattern(
            self.task_role,
            ["s3:PutObject"],
            props.artifacts_bucket.arn_for_objects(f"{ARTIFACTS_PREFIX}/*"),
            "A dbt run writes its artifacts under dbt/<run id>/; PutObject needs a key pattern and is "
            "limited to that prefix of the artifacts bucket (no read, no delete).",
        )
        self.task_definition = task_definition(
            self, "TaskDefinition", family=self.family, cpu=props.cpu, memory=props.memory, role=self.task_role
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
                # The default; Airflow's ecs executor sends the run's own store and version as overrides.
                "DATAOPS_BUNDLE_STORE": bundle_store(props.artifacts_bucket.bucket_name),
            },
            secrets={
                WAREHOUSE_PASSWORD_VARIABLE: ecs.Secret.from_secrets_manager(props.warehouse.credentials, "password"),
            },
            logging=ecs.LogDrivers.aws_logs(stream_prefix=LOG_STREAM_PREFIX, log_group=self.log_group),
            readonly_root_filesystem=False,
        )
        acknowledge(
            self.task_definition,
            "AwsSolutions-ECS2",
            "The plain variables are non-secret settings (warehouse host, port, database, user, bucket "
            "names); the password is injected from Secrets Manager as an ECS secret.",
        )
