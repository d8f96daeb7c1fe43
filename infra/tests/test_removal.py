from __future__ import annotations

from aws_cdk import RemovalPolicy

from dataops_infra.constructs.removal import removal_policy


def test_protected_resources_are_kept_as_asked():
    assert removal_policy(True) == RemovalPolicy.RETAIN
    assert removal_policy(True, kept=RemovalPolicy.SNAPSHOT) == RemovalPolicy.SNAPSHOT


def test_disposable_resources_go_with_their_stack():
    assert removal_policy(False) == RemovalPolicy.DESTROY
    assert removal_policy(False, kept=RemovalPolicy.SNAPSHOT) == RemovalPolicy.DESTROY
