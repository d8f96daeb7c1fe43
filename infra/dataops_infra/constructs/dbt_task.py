"""The dbt task definition that the orchestration's ``ecs`` executor runs on Fargate."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from dataops_infra.constructs.network import allow_ingress
from dataops_infra.constructs.warehouse import WarehouseEndpoint
from dataops_infra.contract import WAREHOUSE_PASSWORD_VARIABLE, warehouse_environment
from dataops_infra.nag import ECR_TOKEN_REASON, acknowledge, wildcard_resource

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
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=self.log_group_name,
            retention=props.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
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
        self.task_role = iam.Role(
            self,
            "TaskRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description="dbt runs: write their artifacts (manifest, run results) under dbt/ of the artifacts bucket",
        )
        self.task_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[props.artifacts_bucket.arn_for_objects(f"{ARTIFACTS_PREFIX}/*")]
            )
        )
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "TaskDefinition",
            family=self.family,
            cpu=props.cpu,
            memory_limit_mib=props.memory,
            task_role=self.task_role,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64, operating_system_family=ecs.OperatingSystemFamily.LINUX
            ),
        )
        self.task_definition.add_container(
            "Dbt",
            container_name=CONTAINER_NAME,
            image=ecs.ContainerImage.from_ecr_repository(props.repository, props.image_tag),
            essential=True,
            environment=warehouse_environment(
                props.warehouse,
                data_bucket_name=props.data_bucket.bucket_name,
                artifacts_bucket_name=props.artifacts_bucket.bucket_name,
            ),
            secrets={
                WAREHOUSE_PASSWORD_VARIABLE: ecs.Secret.from_secrets_manager(props.warehouse.credentials, "password"),
            },
            logging=ecs.LogDrivers.aws_logs(stream_prefix=LOG_STREAM_PREFIX, log_group=self.log_group),
            readonly_root_filesystem=False,
        )
        acknowledge(
            self.task_role,
            wildcard_resource(props.artifacts_bucket.arn_for_objects(f"{ARTIFACTS_PREFIX}/*")),
            "A dbt run writes its artifacts under dbt/<run id>/; PutObject needs a key pattern and is "
            "limited to that prefix of the artifacts bucket (no read, no delete).",
        )
        acknowledge(self.task_definition.obtain_execution_role(), wildcard_resource("*"), ECR_TOKEN_REASON)
        acknowledge(
            self.task_definition,
            "AwsSolutions-ECS2",
            "The plain variables are non-secret settings (warehouse host, port, database, user, bucket "
            "names); the password is injected from Secrets Manager as an ECS secret.",
        )
