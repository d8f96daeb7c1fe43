"""The whole app: synthesizes in pytest and with the pinned CDK CLI; cdk-nag finds nothing unexplained."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from aws_cdk import Validations
from cdk_nag import AwsSolutionsChecks

from dataops_infra.nag import MIN_REASON_LENGTH
from dataops_infra.platform import APPLICATION_STACKS, CORE_STACKS, Platform, stack_names

INFRA = Path(__file__).resolve().parent.parent


def test_app_synthesizes_every_stack(platform: Platform):
    assert [stack.stack_name for stack in platform.stacks] == list(stack_names("dataops").values())
    assert {stack.stack_name for stack in platform.core} == {
        "dataops-network",
        "dataops-storage",
        "dataops-registries",
        "dataops-secrets",
        "dataops-metadata-db",
        "dataops-broker",
        "dataops-warehouse",
        "dataops-delivery",
    }
    assert {stack.stack_name for stack in platform.application} == {"dataops-dbt", "dataops-airflow"}


def test_make_deploys_the_stacks_the_platform_builds(platform: Platform):
    """`make bootstrap` and `make deploy` name their stacks from the tables build_platform uses."""
    names = stack_names("dataops")
    assert [stack.stack_name for stack in platform.core] == [names[part] for part in CORE_STACKS]
    assert [stack.stack_name for stack in platform.application] == [names[part] for part in APPLICATION_STACKS]
    assert [stack.node.id for stack in platform.stacks] == list(names.values())
    assert platform.airflow.template_options.description == (
        "DataOps platform (dataops): Airflow on ECS Fargate and the dbt task definition"
    )


@pytest.mark.parametrize("variant", ["platform", "serverless_platform"])
def test_cdk_nag_finds_nothing_unacknowledged(request, variant):
    """AwsSolutions over every stack of both variants, warnings included (they fail synth too)."""
    platform: Platform = request.getfixturevalue(variant)
    findings = []
    for stack in platform.stacks:
        report = AwsSolutionsChecks().validate_scope(stack)
        for violation in report.violations:
            paths = [resource.construct_path for resource in violation.violating_resources]
            findings.append(f"{violation.severity} {violation.rule_name} at {paths}")
    assert findings == []


def acknowledgments(platform: Platform) -> dict[str, str]:
    found = {}
    for stack in platform.stacks:
        for construct in stack.node.find_all():
            for entry in construct.node.metadata:
                if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                    for rule, reason in entry.data.items():
                        if "AwsSolutions-" in rule:  # CDK acknowledges some of its own checks too
                            found[f"{construct.node.path} {rule}"] = reason
    return found


def test_every_acknowledgment_says_why(platform: Platform):
    found = acknowledgments(platform)
    assert found, "the platform acknowledges findings; none were found in the construct tree"
    for where, reason in found.items():
        assert len(reason) >= MIN_REASON_LENGTH, f"{where}: {reason!r}"
    # Each acknowledgment names one finding; none silences a rule for a whole stack.
    stack_paths = {stack.node.path for stack in platform.stacks}
    assert not [where for where in found if where.split(" ")[0] in stack_paths]


def test_acknowledgments_are_recorded_in_the_templates(platform: Platform):
    """write_suppressions_to_cloud_formation: reviewers see the reasons in the deployed templates."""
    from aws_cdk.assertions import Template

    recorded = 0
    for stack in platform.stacks:
        template = Template.from_stack(stack).to_json()
        for resource in template["Resources"].values():
            for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
                assert len(rule["reason"]) >= MIN_REASON_LENGTH
                recorded += 1
    assert recorded > 0


def test_pinned_cdk_cli_synthesizes_the_defaults(tmp_path):
    """`cdk synth` with the CLI from package-lock.json, with no .env (the defaults)."""
    cdk = INFRA / "node_modules/.bin/cdk"
    assert cdk.exists(), "run `make -C infra venv` (npm ci installs the pinned CLI)"
    version = subprocess.run([str(cdk), "--version"], capture_output=True, text=True, check=True).stdout
    pinned = json.loads((INFRA / "package.json").read_text())["devDependencies"]["aws-cdk"]
    assert version.startswith(pinned)

    env = {**os.environ, "INFRA_ENV_FILE": os.devnull, "CDK_DISABLE_CLI_TELEMETRY": "true"}
    result = subprocess.run(
        [str(cdk), "synth", "--no-notices", "--quiet", "--output", str(tmp_path)],
        cwd=INFRA,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    templates = sorted(path.name for path in tmp_path.glob("*.template.json"))
    assert templates == sorted(f"{name}.template.json" for name in stack_names("dataops").values())
