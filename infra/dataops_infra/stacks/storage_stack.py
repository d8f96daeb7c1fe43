from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from dataops_infra.constructs.buckets import AccessLogsBucket, BucketProps, SecureBucket, bucket_name
from dataops_infra.settings import InfraSettings
from dataops_infra.stacks.common import removal_policy


class StorageStack(Stack):
    """The buckets: artifacts (source bundles, dbt artifacts, task logs), data, access logs."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: InfraSettings, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        props = BucketProps(removal_policy=removal_policy(settings))

        def name(purpose: str) -> str:
            return bucket_name(settings.prefix, purpose, settings.account, settings.region)

        access_logs = AccessLogsBucket(self, "AccessLogs", props=props, name=name("access-logs"))
        artifacts = SecureBucket(
            self, "Artifacts", props=props, logs_bucket=access_logs.bucket, name=name("artifacts"), purpose="artifacts"
        )
        data = SecureBucket(
            self, "Data", props=props, logs_bucket=access_logs.bucket, name=name("data"), purpose="data"
        )
        # Other stacks get the buckets by literal name and ARN (and depend on this stack).
        self.access_logs, self.artifacts, self.data = access_logs.reference, artifacts.reference, data.reference
        CfnOutput(self, "ArtifactsBucket", value=self.artifacts.bucket_name, description="DATAOPS_ARTIFACTS_BUCKET")
        CfnOutput(self, "DataBucket", value=self.data.bucket_name, description="DATAOPS_S3_BUCKET")
