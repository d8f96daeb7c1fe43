"""What every Fargate task of the platform (Airflow components, dbt runs) is made of alike."""

from __future__ import annotations

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from dataops_infra.nag import ECR_TOKEN_REASON, acknowledge, wildcard_resource

ECS_TASKS_SERVICE = "ecs-tasks.amazonaws.com"


def task_role(scope: Construct, construct_id: str, *, description: str) -> iam.Role:
    """A role the containers of ECS tasks assume; its statements are added by whoever knows what they need."""
    return iam.Role(scope, construct_id, assumed_by=iam.ServicePrincipal(ECS_TASKS_SERVICE), description=description)


def task_definition(
    scope: Construct, construct_id: str, *, family: str, cpu: int, memory: int, role: iam.IRole
) -> ecs.FargateTaskDefinition:
    """A Linux x86_64 task definition (the images are built for it) whose execution role pulls from ECR."""
    definition = ecs.FargateTaskDefinition(
        scope,
        construct_id,
        family=family,
        cpu=cpu,
        memory_limit_mib=memory,
        task_role=role,
        runtime_platform=ecs.RuntimePlatform(
            cpu_architecture=ecs.CpuArchitecture.X86_64, operating_system_family=ecs.OperatingSystemFamily.LINUX
        ),
    )
    acknowledge(definition.obtain_execution_role(), wildcard_resource("*"), ECR_TOKEN_REASON)
    return definition
