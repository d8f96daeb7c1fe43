"""An ECR repository for one of the platform's images."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecr as ecr
from constructs import Construct

KEEP_TAGGED_IMAGES = 30
UNTAGGED_IMAGE_DAYS = 7


class ImageRepository(Construct):
    """Scans every push, expires untagged layers, keeps the last tagged images."""

    def __init__(self, scope: Construct, construct_id: str, *, name: str, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, construct_id)
        self.repository = ecr.Repository(
            self,
            "Repository",
            repository_name=name,
            image_scan_on_push=True,
            # A tag is the commit an image was built from and never moves: a deploy that names a new
            # commit changes every task definition, and a pushed tag cannot be replaced.
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.AES_256,
            removal_policy=removal_policy,
            # CloudFormation's EmptyOnDelete: `make destroy` can delete a repository that holds images.
            empty_on_delete=removal_policy == RemovalPolicy.DESTROY,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    rule_priority=1,
                    description="Drop untagged images (interrupted pushes)",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=Duration.days(UNTAGGED_IMAGE_DAYS),
                ),
                ecr.LifecycleRule(
                    rule_priority=2,
                    description=f"Keep the last {KEEP_TAGGED_IMAGES} images",
                    tag_status=ecr.TagStatus.ANY,
                    max_image_count=KEEP_TAGGED_IMAGES,
                ),
            ],
        )
