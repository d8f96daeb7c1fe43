"""The delivery path cannot escalate: CloudFormation's execution policy and the roles' permissions boundary."""

from __future__ import annotations

import json

from dataops_infra.guardrails import execution_policy, permissions_boundary, policy_names
from dataops_infra.tools.guardrails import ensure
from tests.helpers import resources

BOUNDARY = "arn:aws:iam::123456789012:policy/dataops-permissions-boundary"


def statements(document: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in document["Statement"]}


def test_the_execution_policy_is_not_administrator():
    policy = statements(execution_policy("dataops", "123456789012"))
    allowed = [
        a
        for s in policy.values()
        if s["Effect"] == "Allow"
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert "*" not in allowed and "iam:*" not in allowed and "sts:*" not in allowed
    assert not [
        a
        for a in allowed
        if a.startswith(("organizations:", "iam:CreateUser", "iam:CreateAccessKey", "iam:CreatePolicy"))
    ]
    # IAM roles: only the platform's names, only with the boundary attached.
    create = policy["RolesOnlyWithTheBoundary"]
    assert "iam:CreateRole" in create["Action"] and create["Resource"] == "arn:aws:iam::123456789012:role/dataops-*"
    assert create["Condition"] == {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}}
    # It can neither edit the guardrails nor take a boundary off a role.
    deny = policy["NeverTheGuardrailsOrABoundaryRemoval"]
    assert deny["Effect"] == "Deny" and "iam:CreatePolicyVersion" in deny["Action"]
    assert "iam:DeleteRolePermissionsBoundary" in deny["Action"]
    assert BOUNDARY in deny["Resource"] and "arn:aws:iam::123456789012:policy/dataops-cfn-execution" in deny["Resource"]


def test_the_boundary_lets_no_role_change_iam():
    boundary = statements(permissions_boundary("dataops", "123456789012"))
    assert boundary["NoIamChanges"]["Effect"] == "Deny"
    assert {"iam:Create*", "iam:Put*", "iam:Attach*", "iam:Update*"} <= set(boundary["NoIamChanges"]["Action"])
    runtime = boundary["PlatformRuntime"]["Action"]
    assert "*" not in runtime and not [a for a in runtime if a.startswith("iam:") and a != "iam:PassRole"]


def test_every_role_the_stacks_create_carries_the_boundary(templates):
    for name, template in templates.items():
        for logical_id, role in resources(template, "AWS::IAM::Role").items():
            boundary = json.dumps(role["Properties"].get("PermissionsBoundary"))
            assert "policy/dataops-permissions-boundary" in boundary, f"{name}/{logical_id}"


class FakeIam:
    class exceptions:  # noqa: N801 (boto3's shape)
        class NoSuchEntityException(Exception):
            pass

    def __init__(self) -> None:
        self.policies: dict[str, list[dict]] = {}

    def get_policy(self, PolicyArn):  # noqa: N803
        if PolicyArn not in self.policies:
            raise self.exceptions.NoSuchEntityException(PolicyArn)

    def create_policy(self, PolicyName, PolicyDocument, Description):  # noqa: N803
        self.policies[f"arn:aws:iam::123456789012:policy/{PolicyName}"] = [
            {"VersionId": "v1", "IsDefaultVersion": True, "CreateDate": 1, "Document": PolicyDocument}
        ]

    def list_policy_versions(self, PolicyArn):  # noqa: N803
        return {"Versions": self.policies[PolicyArn]}

    def get_policy_version(self, PolicyArn, VersionId):  # noqa: N803
        version = next(v for v in self.policies[PolicyArn] if v["VersionId"] == VersionId)
        return {"PolicyVersion": {"Document": version["Document"]}}

    def delete_policy_version(self, PolicyArn, VersionId):  # noqa: N803
        self.policies[PolicyArn] = [v for v in self.policies[PolicyArn] if v["VersionId"] != VersionId]

    def create_policy_version(self, PolicyArn, PolicyDocument, SetAsDefault):  # noqa: N803
        versions = self.policies[PolicyArn]
        for version in versions:
            version["IsDefaultVersion"] = False
        versions.append(
            {
                "VersionId": f"v{len(versions) + 1}",
                "IsDefaultVersion": True,
                "CreateDate": len(versions) + 1,
                "Document": PolicyDocument,
            }
        )


def test_bootstrap_creates_the_policies_once_and_updates_them_in_place():
    iam = FakeIam()
    arn = ensure(iam, "dataops", "123456789012")
    assert arn == "arn:aws:iam::123456789012:policy/dataops-cfn-execution"
    assert set(iam.policies) == {f"arn:aws:iam::123456789012:policy/{n}" for n in policy_names("dataops").values()}
    ensure(iam, "dataops", "123456789012")  # unchanged: no new version
    assert all(len(versions) == 1 for versions in iam.policies.values())
    iam.policies[arn][0]["Document"] = json.dumps({"Version": "2012-10-17", "Statement": []})
    ensure(iam, "dataops", "123456789012")
    assert len(iam.policies[arn]) == 2 and json.loads(iam.policies[arn][-1]["Document"]) == execution_policy(
        "dataops", "123456789012"
    )


def test_bootstrap_hands_the_execution_policy_to_cdk():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    assert '--cloudformation-execution-policies "$$($(PY) -m dataops_infra.tools.guardrails ensure)"' in makefile
