"""allow_pattern: one ARN pattern for the grant and for the cdk-nag finding it answers."""

from __future__ import annotations

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from dataops_infra.nag import allow_pattern
from dataops_infra.platform import cdk_json_context
from tests.helpers import only

REASON = "Test tasks are named at run time, so the statement names the tasks of one cluster."


def stack_with_role() -> tuple[Stack, iam.Role]:
    # The platform's context: partitions are literals once the region is known.
    app = App(context=cdk_json_context())
    stack = Stack(app, "Test", env=Environment(account="123456789012", region="us-east-1"))
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    return stack, role


def wildcard_findings(stack: Stack) -> list[str]:
    report = AwsSolutionsChecks().validate_scope(stack)
    return [violation.rule_name for violation in report.violations if "IAM5" in violation.rule_name]


def test_the_grant_and_its_acknowledgment_name_the_same_resources():
    stack, role = stack_with_role()
    tasks = stack.format_arn(service="ecs", resource="task", resource_name="cluster/*")
    allow_pattern(role, ["ecs:StopTask"], tasks, REASON, conditions={"StringEquals": {"ecs:cluster": "cluster"}})
    statement = only(Template.from_stack(stack), "AWS::IAM::Policy")["Properties"]["PolicyDocument"]["Statement"]
    assert statement == [
        {
            "Action": "ecs:StopTask",
            "Condition": {"StringEquals": {"ecs:cluster": "cluster"}},
            "Effect": "Allow",
            "Resource": "arn:aws:ecs:us-east-1:123456789012:task/cluster/*",
        }
    ]
    assert wildcard_findings(stack) == []


def test_the_same_grant_unacknowledged_is_a_finding():
    stack, role = stack_with_role()
    tasks = stack.format_arn(service="ecs", resource="task", resource_name="cluster/*")
    role.add_to_policy(iam.PolicyStatement(actions=["ecs:StopTask"], resources=[tasks]))
    assert wildcard_findings(stack) != []


def test_a_pattern_known_only_at_deploy_time_is_refused():
    stack, role = stack_with_role()
    bucket = s3.Bucket(stack, "Bucket")  # its ARN is a CloudFormation reference
    with pytest.raises(ValueError, match="only known at deploy time"):
        allow_pattern(role, ["s3:GetObject"], bucket.arn_for_objects("*"), REASON)
