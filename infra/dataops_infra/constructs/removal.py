"""What becomes of a stateful resource (database, bucket, secret...) when its stack is deleted."""

from __future__ import annotations

from aws_cdk import RemovalPolicy


def removal_policy(deletion_protection: bool, *, kept: RemovalPolicy = RemovalPolicy.RETAIN) -> RemovalPolicy:
    """Protected deployments keep the resource as ``kept`` (SNAPSHOT where CloudFormation can snapshot it);
    disposable ones delete it, so that `make destroy` leaves nothing behind."""
    return kept if deletion_protection else RemovalPolicy.DESTROY
