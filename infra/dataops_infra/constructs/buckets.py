"""S3 buckets: encrypted, versioned, private, TLS-only, logged, with old versions expiring."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.region_info import RegionInfo
from constructs import Construct

from dataops_infra.nag import acknowledge

LOAD_BALANCER_LOGS_PREFIX = "load-balancer"


def bucket_name(prefix: str, purpose: str, account: str, region: str) -> str:
    """Bucket names are global: the account and region make them unique and predictable."""
    return f"{prefix}-{purpose}-{account}-{region}"


def literal_reference(scope: Construct, bucket: s3.Bucket, name: str) -> s3.IBucket:
    """The bucket as other stacks should see it: by its literal name and ARN.

    Consumers then write readable, exact ARNs into their policies and environment,
    without a CloudFormation export per attribute (the stacks declare their order).
    """
    arn = Stack.of(scope).format_arn(service="s3", region="", account="", resource=name)
    reference = s3.Bucket.from_bucket_attributes(scope, "Reference", bucket_name=name, bucket_arn=arn)
    reference.node.add_dependency(bucket)
    return reference


@dataclass(frozen=True)
class BucketProps:
    removal_policy: RemovalPolicy
    noncurrent_version_days: int = 30
    abort_incomplete_upload_days: int = 7


def _bucket(
    scope: Construct, props: BucketProps, name: str, *, expiration: Duration | None = None, **options: object
) -> s3.Bucket:
    """The platform's kind of bucket; ``expiration`` deletes current objects too, ``options`` add to it."""
    return s3.Bucket(
        scope,
        "Bucket",
        bucket_name=name,
        # SSE-S3: Redshift COPY, ALB log delivery and S3 access logging all work
        # without KMS grants, and every object is still encrypted at rest.
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforce_ssl=True,
        versioned=True,
        removal_policy=props.removal_policy,
        lifecycle_rules=[
            s3.LifecycleRule(
                expiration=expiration,
                noncurrent_version_expiration=Duration.days(props.noncurrent_version_days),
                abort_incomplete_multipart_upload_after=Duration.days(props.abort_incomplete_upload_days),
            )
        ],
        **options,
    )


class AccessLogsBucket(Construct):
    """Receives the S3 server access logs of the other buckets and the load balancer's logs."""

    def __init__(
        self, scope: Construct, construct_id: str, *, props: BucketProps, name: str, retention_days: int = 365
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = _bucket(self, props, name, expiration=Duration.days(retention_days))
        self._allow_load_balancer_logs()
        self.reference = literal_reference(self, self.bucket, name)
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "This is the access-log destination itself; logging it into itself would loop and "
            "logging it elsewhere needs yet another bucket. Its policy allows only log delivery writes.",
        )

    def _allow_load_balancer_logs(self) -> None:
        """Let Elastic Load Balancing write under ``load-balancer/`` (granted here, where the bucket lives)."""
        stack = Stack.of(self)
        # Older regions deliver from a regional ELB account; newer ones from the log-delivery service.
        elb_account = RegionInfo.get(stack.region).elbv2_account if not stack.region.startswith("${") else None
        principal: iam.IPrincipal = (
            iam.AccountPrincipal(elb_account)
            if elb_account
            else iam.ServicePrincipal("logdelivery.elasticloadbalancing.amazonaws.com")
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[principal],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"{LOAD_BALANCER_LOGS_PREFIX}/AWSLogs/{stack.account}/*")],
            )
        )


class SecureBucket(Construct):
    """A private bucket whose server access logs go to ``logs_bucket`` under ``s3/<purpose>/``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: BucketProps,
        logs_bucket: s3.IBucket,
        name: str,
        purpose: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = _bucket(
            self, props, name, server_access_logs_bucket=logs_bucket, server_access_logs_prefix=f"s3/{purpose}/"
        )
        self.reference = literal_reference(self, self.bucket, name)
