"""The acknowledged cdk-nag findings: fewer than 100, none for SMG4, IAM wildcards only where AWS leaves no choice.

Counted as the issue counts them: entries whose id starts with ``AwsSolutions-`` in the
``cdk_nag`` metadata of the synthesized templates (test settings: HTTPS, CIDRs, GitHub).
"""

from __future__ import annotations

import re

from aws_cdk.assertions import Template

MAX_SUPPRESSIONS = 100
# The wildcard resources an IAM5 acknowledgment may name: AWS actions that accept no resource,
# and resources created at run time (objects under a prefix, ECS tasks, log streams, CodeBuild
# report groups), never a resource a stack defines.
RUNTIME_CREATED = [
    r"\*",
    r"arn:aws:s3:::dataops-(artifacts|data)-123456789012-us-east-1/[a-z-]+/\*",
    r"arn:aws:s3:::dataops-data-123456789012-us-east-1/\*",
    r"arn:aws:ecs:us-east-1:123456789012:(task|container-instance)/dataops/\*",
    r"arn:aws:logs:us-east-1:123456789012:log-group:/dataops/dbt:log-stream:dbt/\*",
    r"arn:aws:logs:us-east-1:123456789012:log-group:/aws/codebuild/<[A-Za-z0-9]+>:\*",
    r"arn:aws:codebuild:us-east-1:123456789012:report-group/<[A-Za-z0-9]+>-\*",
]


def suppressions(platform) -> list[tuple[str, str, str]]:
    found = []
    for stack in platform.stacks:
        for logical_id, resource in Template.from_stack(stack).to_json()["Resources"].items():
            for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
                if rule["id"].startswith("AwsSolutions-"):
                    found.append((stack.stack_name, logical_id, rule["id"]))
    return found


def test_fewer_suppressions_and_none_for_secret_rotation(platform):
    found = suppressions(platform)
    assert 0 < len(found) < MAX_SUPPRESSIONS, len(found)
    assert not [f for f in found if f[2].startswith("AwsSolutions-SMG4")]


def test_no_wildcard_names_a_resource_the_stacks_own(platform):
    for stack, logical_id, rule in suppressions(platform):
        match = re.fullmatch(r"AwsSolutions-IAM5\[Resource::(.*)\]", rule)
        if match:
            assert any(re.fullmatch(pattern, match.group(1)) for pattern in RUNTIME_CREATED), (stack, logical_id, rule)
