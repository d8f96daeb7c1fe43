"""Reading synthesized templates: resources, containers, IAM statements, ingress rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from aws_cdk.assertions import Template

Resource = dict[str, Any]


def resources(template: Template, resource_type: str) -> dict[str, Resource]:
    return template.find_resources(resource_type)


def only(template: Template, resource_type: str) -> Resource:
    found = resources(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {list(found)}"
    return next(iter(found.values()))


def containers(template: Template) -> dict[str, Resource]:
    """Container definitions by container name, across the template's task definitions."""
    result = {}
    for task in resources(template, "AWS::ECS::TaskDefinition").values():
        for container in task["Properties"]["ContainerDefinitions"]:
            result[container["Name"]] = container
    return result


def environment(container: Resource) -> dict[str, Any]:
    return {item["Name"]: item["Value"] for item in container.get("Environment", [])}


def secrets(container: Resource) -> dict[str, Any]:
    return {item["Name"]: item["ValueFrom"] for item in container.get("Secrets", [])}


def statements_of_role(template: Template, role_logical_id_prefix: str) -> list[Resource]:
    """Every statement of the IAM policies attached to the role whose logical id starts with the prefix."""
    result = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        roles = [ref.get("Ref", "") for ref in policy["Properties"].get("Roles", [])]
        if any(role.startswith(role_logical_id_prefix) for role in roles):
            result.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return result


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def text(value: Any) -> str:
    """A CloudFormation value (maybe an intrinsic) as searchable text."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def ingress_rules(templates: dict[str, Template]) -> Iterator[tuple[str, Resource]]:
    """Standalone ingress rules and inline ones, with the stack they are in."""
    for stack, template in templates.items():
        for rule in resources(template, "AWS::EC2::SecurityGroupIngress").values():
            yield stack, rule["Properties"]
        for group in resources(template, "AWS::EC2::SecurityGroup").values():
            for rule in group["Properties"].get("SecurityGroupIngress", []):
                yield stack, rule
