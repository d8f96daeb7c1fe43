"""Delivery: CodeBuild projects that build the images and deploy the infrastructure,
the role GitHub Actions assumes (OIDC, no stored keys) to start them, and the
role the analytics workflow assumes to publish bundles.

The image and deploy workflows upload the repository as ``source/dataops.zip``
to the artifacts bucket (versioned) and start a build at that object version.
The publish workflow (``analytics-publish.yml``) runs ``dataops publish`` into
``s3://<artifacts bucket>/bundles``: an analytics change rebuilds no image.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from dataops_infra.constructs.log_group import named_log_group
from dataops_infra.contract import BUNDLES_PREFIX
from dataops_infra.nag import (
    ECR_TOKEN_REASON,
    acknowledge,
    acknowledge_findings,
    allow_pattern,
    policy_of,
    reference,
    wildcard_action,
    wildcard_resource,
)

SOURCE_KEY = "source/dataops.zip"
BUILDSPEC_OVERRIDE_KEY = "codebuild:source.buildspec"
GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_TOKEN_ISSUER = "token.actions.githubusercontent.com"
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
# The CDK bootstrap roles (default qualifier) that `cdk deploy` assumes.
CDK_ROLE_QUALIFIER = "hnb659fds"
CDK_ROLES = ("deploy", "file-publishing", "lookup")


@dataclass(frozen=True)
class DeliveryProps:
    prefix: str
    artifacts_bucket: s3.IBucket
    airflow_repository: ecr.IRepository
    dbt_repository: ecr.IRepository
    # INFRA_* settings the deploy project runs with (non-secret by construction).
    infra_environment: dict[str, str]
    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy


class DeliveryProjects(Construct):
    """Two CodeBuild projects reading the uploaded source, encrypted with a rotating KMS key."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DeliveryProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        self.key = kms.Key(
            self,
            "Key",
            enable_key_rotation=True,
            removal_policy=props.removal_policy,
            description="Encrypts the CodeBuild projects' artifacts and logs",
        )
        self.images = self._project(
            "Images",
            name=f"{props.prefix}-images",
            description="Builds the Airflow and dbt images and pushes them to ECR",
            privileged=True,
            environment={
                "AIRFLOW_REPOSITORY": props.airflow_repository.repository_uri,
                "DBT_REPOSITORY": props.dbt_repository.repository_uri,
            },
            commands=["bash infra/scripts/push_images.sh"],
        )
        for repository in (props.airflow_repository, props.dbt_repository):
            repository.grant_pull_push(self.images)
        acknowledge(policy_of(self.images.role), wildcard_resource("*"), ECR_TOKEN_REASON)  # type: ignore[arg-type]
        acknowledge(
            self.images,
            "AwsSolutions-CB3",
            "Privileged mode runs the Docker daemon that builds the two images; the project builds only "
            "this repository's Dockerfiles from the uploaded source.",
        )

        self.deploy = self._project(
            "Deploy",
            name=f"{props.prefix}-deploy-infra",
            description="Runs `make -C infra deploy` (the Airflow and dbt stacks) with the pinned CDK",
            privileged=False,
            environment=props.infra_environment,
            # IMAGE_TAG (the commit) comes with each build (run_codebuild.sh); settings refuse anything else.
            commands=['INFRA_IMAGE_TAG="$IMAGE_TAG" make -C infra deploy'],
        )
        stack = Stack.of(self)
        # `cdk deploy` assumes these CDK bootstrap roles; CloudFormation then deploys with the platform's
        # execution policy (dataops_infra/guardrails.py), never administrator rights.
        self.deploy.role.add_to_principal_policy(  # type: ignore[union-attr]
            iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                resources=[
                    stack.format_arn(
                        service="iam",
                        region="",
                        resource="role",
                        resource_name=f"cdk-{CDK_ROLE_QUALIFIER}-{role}-role-{stack.account}-{stack.region}",
                    )
                    for role in CDK_ROLES
                ],
            )
        )

    def _project(
        self,
        construct_id: str,
        *,
        name: str,
        description: str,
        privileged: bool,
        environment: dict[str, str],
        commands: list[str],
    ) -> codebuild.Project:
        log_group = named_log_group(
            self, f"{construct_id}Logs", name=f"/aws/codebuild/{name}", retention=self._props.log_retention
        )
        project = codebuild.Project(
            self,
            construct_id,
            project_name=name,
            description=description,
            source=codebuild.Source.s3(bucket=self._props.artifacts_bucket, path=SOURCE_KEY),
            environment=codebuild.BuildEnvironment(
                build_image=BUILD_IMAGE, compute_type=codebuild.ComputeType.MEDIUM, privileged=privileged
            ),
            environment_variables={
                key: codebuild.BuildEnvironmentVariable(value=value) for key, value in environment.items()
            },
            build_spec=codebuild.BuildSpec.from_object(
                {
                    "version": "0.2",
                    "phases": {
                        "install": {"runtime-versions": {"python": "3.11", "nodejs": "20"}},
                        "build": {"commands": commands},
                    },
                }
            ),
            encryption_key=self.key,
            timeout=Duration.minutes(60),
            logging=codebuild.LoggingOptions(cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group)),
        )
        self._acknowledge_codebuild_defaults(project)
        return project

    def _acknowledge_codebuild_defaults(self, project: codebuild.Project) -> None:
        """The statements CodeBuild's L2 construct writes for every project."""
        stack, role = Stack.of(self), policy_of(project.role)  # type: ignore[arg-type]
        acknowledge_findings(
            role,  # type: ignore[arg-type]
            [wildcard_action("s3:GetBucket*"), wildcard_action("s3:GetObject*"), wildcard_action("s3:List*")],
            "CDK's read grant for the S3 source: read-only actions on the artifacts bucket and its single "
            "source/dataops.zip object; nothing can be written or deleted.",
        )
        acknowledge_findings(
            role,  # type: ignore[arg-type]
            [wildcard_action("kms:GenerateDataKey*"), wildcard_action("kms:ReEncrypt*")],
            "CDK's encrypt/decrypt grant on the delivery KMS key only, which CodeBuild uses for its artifacts.",
        )
        name = reference(project)
        acknowledge(
            role,  # type: ignore[arg-type]
            wildcard_resource(f"arn:aws:logs:{stack.region}:{stack.account}:log-group:/aws/codebuild/{name}:*"),
            "CodeBuild's default log group of this project (streams are named per build at run time).",
        )
        acknowledge(
            role,  # type: ignore[arg-type]
            wildcard_resource(f"arn:aws:codebuild:{stack.region}:{stack.account}:report-group/{name}-*"),
            "CodeBuild test report groups of this project only (named <project>-<group> at run time).",
        )


@dataclass(frozen=True)
class GitHubDeployRoleProps:
    repository: str
    # An existing provider (an account holds one per URL); None creates it.
    oidc_provider_arn: str | None
    artifacts_bucket: s3.IBucket
    projects: list[codebuild.IProject]


def main_branch_workflows(provider_arn: str, repository: str) -> iam.WebIdentityPrincipal:
    """GitHub Actions workflows of ``repository`` running on its main branch, through the OIDC provider."""
    return iam.WebIdentityPrincipal(
        provider_arn,
        conditions={
            "StringEquals": {
                f"{GITHUB_TOKEN_ISSUER}:aud": "sts.amazonaws.com",
                f"{GITHUB_TOKEN_ISSUER}:sub": f"repo:{repository}:ref:refs/heads/main",
            }
        },
    )


class GitHubDeployRole(Construct):
    """Assumable only by workflows on the repository's main branch: upload the source, start builds."""

    def __init__(self, scope: Construct, construct_id: str, *, props: GitHubDeployRoleProps) -> None:
        super().__init__(scope, construct_id)
        # The account's one provider for GitHub's tokens; the publish role trusts it too.
        self.provider_arn = (
            props.oidc_provider_arn
            or iam.OidcProviderNative(
                self, "Provider", url=GITHUB_OIDC_URL, client_ids=["sts.amazonaws.com"]
            ).oidc_provider_arn
        )
        self.role = iam.Role(
            self,
            "Role",
            description=f"GitHub Actions of {props.repository} (main): upload the source, start CodeBuild",
            max_session_duration=Duration.hours(1),
            assumed_by=main_branch_workflows(self.provider_arn, props.repository),
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[props.artifacts_bucket.arn_for_objects(SOURCE_KEY)]
            )
        )
        projects = [project.project_arn for project in props.projects]
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["codebuild:StartBuild", "codebuild:BatchGetBuilds"], resources=projects)
        )
        # The projects' own buildspecs run, never commands the caller sends (codebuild:source.buildspec
        # is present exactly when a StartBuild call carries buildspecOverride).
        self.role.add_to_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                actions=["codebuild:StartBuild"],
                resources=projects,
                conditions={"Null": {BUILDSPEC_OVERRIDE_KEY: "false"}},
            )
        )


@dataclass(frozen=True)
class GitHubPublishRoleProps:
    repository: str
    oidc_provider_arn: str
    artifacts_bucket: s3.IBucket


class GitHubPublishRole(Construct):
    """Assumable only by workflows on the repository's main branch: publish analytics bundles.

    ``dataops publish`` uploads a bundle and its record, replaces the pointer
    (a conditional PUT), reads the store, and prunes old versions: read, write
    and delete under ``bundles/`` of the artifacts bucket, nothing else.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: GitHubPublishRoleProps) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "Role",
            description=f"GitHub Actions of {props.repository} (main): publish analytics bundles under bundles/",
            max_session_duration=Duration.hours(1),
            assumed_by=main_branch_workflows(props.oidc_provider_arn, props.repository),
        )
        bucket = props.artifacts_bucket
        allow_pattern(
            self.role,
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            bucket.arn_for_objects(f"{BUNDLES_PREFIX}/*"),
            "dataops publish writes bundle archives, their records and the current pointer, reads them back "
            "and prunes old versions, all under bundles/ of the artifacts bucket and nowhere else.",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [BUNDLES_PREFIX, f"{BUNDLES_PREFIX}/*"]}},
            )
        )
