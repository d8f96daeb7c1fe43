from __future__ import annotations

from tests.conftest import GITHUB_REPOSITORY
from tests.helpers import as_list, only, resources, statements_of_role, text


def projects(templates) -> dict[str, dict]:
    found = resources(templates["dataops-delivery"], "AWS::CodeBuild::Project").values()
    return {p["Properties"]["Name"]: p["Properties"] for p in found}


def test_codebuild_projects_build_images_and_deploy(templates):
    found = projects(templates)
    assert set(found) == {"dataops-images", "dataops-deploy-infra"}
    for project in found.values():
        assert project["Source"]["Type"] == "S3"
        assert project["Source"]["Location"] == "dataops-artifacts-123456789012-us-east-1/source/dataops.zip"
        assert "Key" in text(project["EncryptionKey"])
        assert project["Environment"]["Image"] == "aws/codebuild/standard:7.0"
    assert found["dataops-images"]["Environment"]["PrivilegedMode"] is True
    assert found["dataops-deploy-infra"]["Environment"]["PrivilegedMode"] is False
    assert "bash infra/scripts/push_images.sh" in found["dataops-images"]["Source"]["BuildSpec"]
    assert "make -C infra deploy" in found["dataops-deploy-infra"]["Source"]["BuildSpec"]
    deploy_env = {v["Name"]: v["Value"] for v in found["dataops-deploy-infra"]["Environment"]["EnvironmentVariables"]}
    assert deploy_env["INFRA_ACCOUNT"] == "123456789012" and deploy_env["INFRA_ALLOWED_CIDRS"] == "203.0.113.0/24"
    assert only(templates["dataops-delivery"], "AWS::KMS::Key")["Properties"]["EnableKeyRotation"] is True


def test_deploy_project_only_assumes_the_cdk_roles(templates):
    statements = statements_of_role(templates["dataops-delivery"], "ProjectsDeployRole")
    assume = [s for s in statements if "sts:AssumeRole" in as_list(s["Action"])]
    # The three CDK roles `cdk deploy` uses, by name (not the image-publishing one, not a pattern).
    assert assume == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Resource": [
                f"arn:aws:iam::123456789012:role/cdk-hnb659fds-{role}-role-123456789012-us-east-1"
                for role in ("deploy", "file-publishing", "lookup")
            ],
        }
    ]
    env = {
        v["Name"]: v["Value"]
        for v in projects(templates)["dataops-deploy-infra"]["Environment"]["EnvironmentVariables"]
    }
    # No default tag: each build names the commit (run_codebuild.sh), and settings refuse anything else.
    assert "IMAGE_TAG" not in env and "INFRA_IMAGE_TAG" not in env


def test_github_role_trusts_only_the_main_branch(templates):
    delivery = templates["dataops-delivery"]
    assert (
        only(delivery, "AWS::IAM::OIDCProvider")["Properties"]["Url"] == "https://token.actions.githubusercontent.com"
    )
    roles = [r for k, r in resources(delivery, "AWS::IAM::Role").items() if k.startswith("GitHubRole")]
    assert len(roles) == 1
    trust = roles[0]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": f"repo:{GITHUB_REPOSITORY}:ref:refs/heads/main",
    }
    statements = statements_of_role(delivery, "GitHubRole")
    assert {(s["Effect"], text(s["Action"])) for s in statements} == {
        ("Allow", "s3:PutObject"),
        ("Allow", '["codebuild:BatchGetBuilds", "codebuild:StartBuild"]'),
        ("Deny", "codebuild:StartBuild"),
    }
    # A build runs its project's buildspec: a StartBuild that carries buildspecOverride is denied.
    deny = next(s for s in statements if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Null": {"codebuild:source.buildspec": "false"}}
    allow = next(s for s in statements if s["Effect"] == "Allow" and "codebuild" in text(s["Action"]))
    assert deny["Resource"] == allow["Resource"] and len(deny["Resource"]) == 2
    upload = next(s for s in statements if s["Action"] == "s3:PutObject")
    assert upload["Resource"] == "arn:aws:s3:::dataops-artifacts-123456789012-us-east-1/source/dataops.zip"


def test_publish_role_trusts_only_the_main_branch_and_writes_only_bundles(templates):
    delivery = templates["dataops-delivery"]
    roles = [r for k, r in resources(delivery, "AWS::IAM::Role").items() if k.startswith("GitHubPublishRole")]
    assert len(roles) == 1
    trust = roles[0]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert len(trust) == 1 and trust[0]["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust[0]["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": f"repo:{GITHUB_REPOSITORY}:ref:refs/heads/main",
    }
    # The same (one per account) OIDC provider as the deploy role's.
    assert "GitHubProvider" in text(trust[0]["Principal"])
    bucket = "arn:aws:s3:::dataops-artifacts-123456789012-us-east-1"
    assert statements_of_role(delivery, "GitHubPublishRole") == [
        {
            "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            "Effect": "Allow",
            "Resource": f"{bucket}/bundles/*",
        },
        {
            "Action": "s3:ListBucket",
            "Condition": {"StringLike": {"s3:prefix": ["bundles", "bundles/*"]}},
            "Effect": "Allow",
            "Resource": bucket,
        },
    ]
    outputs = {o["Description"]: o["Value"] for o in delivery.to_json()["Outputs"].values() if "Description" in o}
    assert outputs["GitHub variable DATAOPS_BUNDLE_STORE"] == "s3://dataops-artifacts-123456789012-us-east-1/bundles"
    assert "GitHubPublishRole" in text(outputs["GitHub variable AWS_PUBLISH_ROLE_ARN"])


def test_no_github_role_without_a_repository(serverless_platform):
    from aws_cdk.assertions import Template

    delivery = Template.from_stack(serverless_platform.delivery)
    assert not resources(delivery, "AWS::IAM::OIDCProvider")
    assert not resources(delivery, "AWS::IAM::Role") or all(
        not key.startswith(("GitHubRole", "GitHubPublishRole")) for key in resources(delivery, "AWS::IAM::Role")
    )


def test_workflows_start_the_projects_this_stack_defines():
    """The GitHub workflows and the CodeBuild projects agree on names and the source key."""
    from pathlib import Path

    from dataops_infra.constructs.delivery import SOURCE_KEY

    repo = Path(__file__).resolve().parents[2]
    runner = (repo / "infra/scripts/run_codebuild.sh").read_text()
    assert f'source_key="{SOURCE_KEY}"' in runner
    images = (repo / ".github/workflows/infra-images.yml").read_text()
    deploy = (repo / ".github/workflows/infra-deploy.yml").read_text()
    assert "run_codebuild.sh" in images and '-images"' in images
    assert "run_codebuild.sh" in deploy and '-deploy-infra"' in deploy
    assert "id-token: write" in images and "id-token: write" in deploy
    # Deploys name a commit: the images are tagged with it (immutable), never a moving tag.
    assert '"${GITHUB_SHA}"' in images and "default: latest" not in deploy
    assert "IMAGE_TAG: ${{ inputs.image_tag || github.event.workflow_run.head_sha }}" in deploy


def workflow(name: str) -> str:
    from pathlib import Path

    return (Path(__file__).resolve().parents[2] / ".github/workflows" / name).read_text()


def flow_list(text: str, key: str) -> list[list[str]]:
    """Every ``key: [..]`` flow list of a workflow (the infra environment has no YAML parser)."""
    import json
    import re

    found = re.findall(rf"^\s*{re.escape(key)}:\s*(\[.*\])\s*(?:#.*)?$", text, re.MULTILINE)
    return [json.loads(re.sub(r"(?<=[\[,])\s*([A-Za-z_][\w-]*)\s*(?=[,\]])", r'"\1"', item)) for item in found]


def test_images_are_rebuilt_only_for_platform_changes():
    """An analytics change rebuilds no image: it is published as a bundle."""
    images = workflow("infra-images.yml")
    assert flow_list(images, "paths") == [["src/**", "requirements/**", "infra/images/**"]]
    assert flow_list(images, "branches") == [["main"]]


def test_analytics_are_published_from_main_through_the_publish_role(templates):
    publish = workflow("analytics-publish.yml")
    assert flow_list(publish, "branches") == [["main"]]
    assert flow_list(publish, "paths") == [["analytics/**"]]
    assert "\npermissions:\n  contents: read\n  id-token: write" in publish
    assert "fetch-depth: 0" in publish
    assert "uses: aws-actions/configure-aws-credentials@v4" in publish
    assert "role-to-assume: ${{ vars.AWS_PUBLISH_ROLE_ARN }}" in publish
    assert "DATAOPS_BUNDLE_STORE: ${{ vars.DATAOPS_BUNDLE_STORE }}" in publish
    assert publish.rstrip().endswith("run: .venv/bin/dataops publish --ref ${{ github.sha }}")
    assert "run: make setup" in publish
    # The variables it reads are the ones the delivery stack's outputs name.
    outputs = templates["dataops-delivery"].to_json()["Outputs"].values()
    outputs = {o["Description"] for o in outputs if "Description" in o}
    assert {"GitHub variable AWS_PUBLISH_ROLE_ARN", "GitHub variable DATAOPS_BUNDLE_STORE"} <= outputs
