from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_s3 as s3
from constructs import Construct

from dataops_infra.constructs.delivery import (
    DeliveryProjects,
    DeliveryProps,
    GitHubDeployRole,
    GitHubDeployRoleProps,
    GitHubPublishRole,
    GitHubPublishRoleProps,
)
from dataops_infra.contract import bundle_store
from dataops_infra.settings import InfraSettings
from dataops_infra.stacks.common import log_retention, removal_policy


class DeliveryStack(Stack):
    """CodeBuild projects for images and infrastructure, the GitHub Actions role that starts them,
    and the one that publishes analytics bundles."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: InfraSettings,
        artifacts_bucket: s3.IBucket,
        airflow_repository: ecr.IRepository,
        dbt_repository: ecr.IRepository,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        infra_environment = {k: v for k, v in settings.as_environment().items() if k != "INFRA_IMAGE_TAG"}
        self.projects = DeliveryProjects(
            self,
            "Projects",
            props=DeliveryProps(
                prefix=settings.prefix,
                artifacts_bucket=artifacts_bucket,
                airflow_repository=airflow_repository,
                dbt_repository=dbt_repository,
                infra_environment=infra_environment,
                log_retention=log_retention(settings),
                removal_policy=removal_policy(settings),
            ),
        )
        CfnOutput(self, "ImagesProject", value=self.projects.images.project_name)
        CfnOutput(self, "DeployProject", value=self.projects.deploy.project_name)
        if settings.github_repository:
            github = GitHubDeployRole(
                self,
                "GitHub",
                props=GitHubDeployRoleProps(
                    repository=settings.github_repository,
                    oidc_provider_arn=settings.github_oidc_provider_arn,
                    artifacts_bucket=artifacts_bucket,
                    projects=[self.projects.images, self.projects.deploy],
                ),
            )
            CfnOutput(
                self, "GitHubRoleArn", value=github.role.role_arn, description="GitHub variable AWS_DELIVERY_ROLE_ARN"
            )
            publish = GitHubPublishRole(
                self,
                "GitHubPublish",
                props=GitHubPublishRoleProps(
                    repository=settings.github_repository,
                    oidc_provider_arn=github.provider_arn,
                    artifacts_bucket=artifacts_bucket,
                ),
            )
            CfnOutput(
                self,
                "GitHubPublishRoleArn",
                value=publish.role.role_arn,
                description="GitHub variable AWS_PUBLISH_ROLE_ARN",
            )
            CfnOutput(
                self,
                "BundleStore",
                value=bundle_store(artifacts_bucket.bucket_name),
                description="GitHub variable DATAOPS_BUNDLE_STORE",
            )
