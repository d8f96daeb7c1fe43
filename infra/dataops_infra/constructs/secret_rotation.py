"""Scheduled rotation of a generated secret by the platform's rotation function.

The function (``dataops_infra/functions/rotation``) runs Secrets Manager's four steps,
applies the new value where it is used (``RotationTarget``) through that service's API,
and then restarts the ECS services that read the secret at start. It runs outside the
VPC: it only calls AWS APIs, never the database or broker itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from dataops_infra.constructs.log_group import named_log_group
from dataops_infra.nag import acknowledge, policy_of, wildcard_resource

FUNCTIONS = Path(__file__).resolve().parent.parent / "functions"
# The newest Python Lambda runs (cdk-nag L1 checks it is the latest).
FUNCTION_RUNTIME = lambda_.Runtime.PYTHON_3_14
ROTATION_DAYS = 30
RANDOM_PASSWORD_REASON = (
    "secretsmanager:GetRandomPassword generates a value and acts on no resource, so AWS accepts only "
    "Resource '*' for it; every other action of the rotation names the one secret."
)


@dataclass(frozen=True)
class RotationTarget:
    """Where the new value is applied: ``none`` (only the services read it), ``elasticache-auth``,
    ``redshift-cluster`` or ``redshift-serverless``, with the permission that takes."""

    kind: str = "none"
    target_id: str = ""
    permission: iam.PolicyStatement | None = None


@dataclass(frozen=True)
class SecretRotationProps:
    secret: sm.Secret
    log_retention: logs.RetentionDays
    target: RotationTarget = RotationTarget()
    # The JSON field that holds the password; empty for a plain-string secret.
    password_field: str = ""
    password_length: int = 32
    # ECS services ("cluster/service") that read the secret at start and restart after a rotation.
    restart_services: list[str] = field(default_factory=list)
    days: int = ROTATION_DAYS


class SecretRotation(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, props: SecretRotationProps) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        name = f"{stack.stack_name}-{construct_id}"[:64]
        log_group = named_log_group(self, "Logs", name=f"/aws/lambda/{name}", retention=props.log_retention)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Rotates {props.secret.node.path}: that secret, its target, restarts of its readers",
        )
        log_group.grant_write(self.role)
        if props.target.permission:
            self.role.add_to_policy(props.target.permission)
        if props.restart_services:
            self.role.add_to_policy(
                iam.PolicyStatement(
                    actions=["ecs:UpdateService"],
                    resources=[
                        stack.format_arn(service="ecs", resource="service", resource_name=service)
                        for service in props.restart_services
                    ],
                )
            )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=name,
            description=f"Rotates the secret {props.secret.node.path}",
            runtime=FUNCTION_RUNTIME,
            code=lambda_.Code.from_asset(str(FUNCTIONS / "rotation")),
            handler="handler.handler",
            role=self.role,
            log_group=log_group,
            timeout=Duration.minutes(2),
            environment={
                "TARGET_KIND": props.target.kind,
                "TARGET_ID": props.target.target_id,
                "PASSWORD_FIELD": props.password_field,
                "PASSWORD_LENGTH": str(props.password_length),
                "RESTART_SERVICES": ",".join(props.restart_services),
            },
        )
        self.schedule = props.secret.add_rotation_schedule(
            "Rotation",
            rotation_lambda=self.function,
            automatically_after=Duration.days(props.days),
            # The first rotation waits a period: a deploy never races its own database, broker or users.
            rotate_immediately_on_update=False,
        )
        acknowledge(policy_of(self.role), wildcard_resource("*"), RANDOM_PASSWORD_REASON)
