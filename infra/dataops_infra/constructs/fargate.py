"""What every Fargate task of the platform (Airflow components, dbt runs) is made of alike."""

from __future__ import annotations

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from dataops_infra.nag import ECR_TOKEN_REASON, acknowledge, policy_of, wildcard_resource

ECS_TASKS_SERVICE = "ecs-tasks.amazonaws.com"


def task_role(scope: Construct, construct_id: str, *, description: str, role_name: str | None = None) -> iam.Role:
    """A role the containers of ECS tasks assume; its statements are added by whoever knows what they need.

    ``role_name`` fixes the name where something outside IAM refers to it (the warehouse's users)."""
    return iam.Role(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal(ECS_TASKS_SERVICE),
        description=description,
        role_name=role_name,
    )


def execution_role(scope: Construct, construct_id: str, *, description: str) -> iam.Role:
    """The role ECS itself uses to start tasks (pull the image, write logs, read the injected secrets);
    the containers never hold it. Call ``acknowledge_image_pull`` once its task definitions are complete."""
    return iam.Role(scope, construct_id, assumed_by=iam.ServicePrincipal(ECS_TASKS_SERVICE), description=description)


def acknowledge_image_pull(role: iam.IRole) -> None:
    acknowledge(policy_of(role), wildcard_resource("*"), ECR_TOKEN_REASON)


def task_definition(
    scope: Construct,
    construct_id: str,
    *,
    family: str,
    cpu: int,
    memory: int,
    role: iam.IRole,
    execution: iam.IRole,
) -> ecs.FargateTaskDefinition:
    """A Linux x86_64 task definition (the images are built for it) started by ``execution``."""
    definition = ecs.FargateTaskDefinition(
        scope,
        construct_id,
        family=family,
        cpu=cpu,
        memory_limit_mib=memory,
        task_role=role,
        execution_role=execution,
        runtime_platform=ecs.RuntimePlatform(
            cpu_architecture=ecs.CpuArchitecture.X86_64, operating_system_family=ecs.OperatingSystemFamily.LINUX
        ),
    )
    return definition
