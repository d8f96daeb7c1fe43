"""CloudWatch log groups with a fixed name, which IAM policies, the dbt contract or an AWS service expect."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct


def named_log_group(scope: Construct, construct_id: str, *, name: str, retention: logs.RetentionDays) -> logs.LogGroup:
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        retention=retention,
        # Deleted with its stack: a kept group would hold the name and fail the stack's next deploy.
        removal_policy=RemovalPolicy.DESTROY,
    )
