from __future__ import annotations

from tests.helpers import only, text


def test_broker_encrypts_and_requires_auth(templates):
    group = only(templates["dataops-broker"], "AWS::ElastiCache::ReplicationGroup")["Properties"]
    assert group["TransitEncryptionEnabled"] is True
    assert group["AtRestEncryptionEnabled"] is True
    assert "{{resolve:secretsmanager:" in text(group["AuthToken"])
    assert group["Engine"] == "valkey" and group["Port"] == 6379
    assert group["NumCacheClusters"] == 1 and group["AutomaticFailoverEnabled"] is False
    subnets = only(templates["dataops-broker"], "AWS::ElastiCache::SubnetGroup")["Properties"]["SubnetIds"]
    assert len(subnets) == 2 and all("isolated" in text(subnet) for subnet in subnets)


def test_broker_url_uses_tls_and_the_token(templates):
    secret = only(templates["dataops-broker"], "AWS::SecretsManager::Secret")["Properties"]
    rendered = text(secret["SecretString"])
    assert "rediss://:{{resolve:secretsmanager:" in rendered
    assert "ssl_cert_reqs=CERT_REQUIRED" in rendered


def test_replicas_turn_on_multi_az(serverless_platform):
    from aws_cdk.assertions import Template

    group = only(Template.from_stack(serverless_platform.broker), "AWS::ElastiCache::ReplicationGroup")["Properties"]
    assert group["NumCacheClusters"] == 2
    assert group["AutomaticFailoverEnabled"] is True and group["MultiAZEnabled"] is True
