"""Acknowledging cdk-nag findings, always with the reason a reviewer reads.

cdk-nag 3 runs as a CDK policy-validation plugin: any finding that is not
acknowledged fails ``cdk synth``. An acknowledgment names one finding (for
wildcard IAM findings, the exact ``Rule[Resource::...]`` form) on the construct
it applies to and its children, never a whole stack.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnElement, Stack, Token, Validations
from aws_cdk import aws_iam as iam
from constructs import IConstruct

MIN_REASON_LENGTH = 40


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge ``rule`` (``AwsSolutions-XYZ`` or ``AwsSolutions-IAM5[...]``) on ``scope``."""
    if len(reason) < MIN_REASON_LENGTH:
        raise ValueError(f"the reason for acknowledging {rule} must say why (got {reason!r})")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def policy_of(role: IConstruct) -> IConstruct:
    """Where a role's wildcard findings are: its default policy (acknowledged there, recorded once), or the role."""
    return role.node.try_find_child("DefaultPolicy") or role


def acknowledge_findings(scope: IConstruct, rules: list[str], reason: str) -> None:
    """Acknowledge several findings that share one reason (e.g. the wildcards of one grant)."""
    for rule in rules:
        acknowledge(scope, rule, reason)


def reference(resource: IConstruct, attribute: str | None = None) -> str:
    """How cdk-nag prints a reference to ``resource`` in a finding: ``<LogicalId>`` or ``<LogicalId.Arn>``.

    Also right across stacks: cdk-nag names an imported value after the exporting resource.
    """
    element = resource if isinstance(resource, CfnElement) else resource.node.default_child
    logical_id = Stack.of(element).get_logical_id(element)  # type: ignore[arg-type]
    return f"<{logical_id}.{attribute}>" if attribute else f"<{logical_id}>"


def wildcard_resource(pattern: str) -> str:
    """The finding id of an IAM statement whose resource is ``pattern`` (rule AwsSolutions-IAM5)."""
    return f"AwsSolutions-IAM5[Resource::{pattern}]"


def allow_pattern(
    role: iam.IRole, actions: list[str], pattern: str, reason: str, *, conditions: dict | None = None
) -> None:
    """Allow ``actions`` on the resources ``pattern`` matches (an ARN with a ``*``) and acknowledge
    that wildcard on ``role`` with ``reason``: the pattern is written once, for the grant and its finding."""
    if Token.is_unresolved(pattern):
        raise ValueError(
            f"the resource pattern {pattern!r} is only known at deploy time, so no cdk-nag finding can name it; "
            "build it from literal names (stack account and region, literal bucket ARNs)"
        )
    role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=[pattern], conditions=conditions))
    acknowledge(policy_of(role), wildcard_resource(pattern), reason)


def wildcard_action(action: str) -> str:
    return f"AwsSolutions-IAM5[Action::{action}]"


ECR_TOKEN_REASON = (
    "ecr:GetAuthorizationToken supports no resource-level permission, so AWS requires Resource '*'; "
    "the image pull actions of the same policy are scoped to the one repository."
)
