from __future__ import annotations

from pathlib import Path

from tests.helpers import only, resources, text


def test_broker_encrypts_and_requires_auth(templates):
    group = only(templates["dataops-broker"], "AWS::ElastiCache::ReplicationGroup")["Properties"]
    assert group["TransitEncryptionEnabled"] is True
    assert group["AtRestEncryptionEnabled"] is True
    assert "{{resolve:secretsmanager:" in text(group["AuthToken"])
    assert group["Engine"] == "valkey" and group["Port"] == 6379
    assert group["NumCacheClusters"] == 1 and group["AutomaticFailoverEnabled"] is False
    subnets = only(templates["dataops-broker"], "AWS::ElastiCache::SubnetGroup")["Properties"]["SubnetIds"]
    assert len(subnets) == 2 and all("isolated" in text(subnet) for subnet in subnets)


def test_the_auth_token_rotates_with_both_tokens_valid_in_between(templates):
    """ROTATE keeps the previous token valid; the scheduler and workers restart onto the new one."""
    broker = templates["dataops-broker"]
    secret = only(broker, "AWS::SecretsManager::Secret")["Properties"]
    assert secret["Name"] == "dataops/broker/auth-token" and "SecretString" not in secret
    schedule = only(broker, "AWS::SecretsManager::RotationSchedule")["Properties"]
    assert schedule["RotationRules"] == {"ScheduleExpression": "rate(30 days)"}
    # Not at deploy time: the first rotation waits a period, after the replication group exists.
    assert schedule["RotateImmediatelyOnUpdate"] is False
    function = only(broker, "AWS::Lambda::Function")["Properties"]
    assert function["Environment"]["Variables"] == {
        "TARGET_KIND": "elasticache-auth",
        "TARGET_ID": "dataops-broker",
        "PASSWORD_FIELD": "",
        "PASSWORD_LENGTH": "64",
        "RESTART_SERVICES": "dataops/airflow-scheduler,dataops/airflow-worker",
    }
    grants = {
        (text(s["Action"]), text(s["Resource"]))
        for policy in resources(broker, "AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    }
    assert (
        "elasticache:ModifyReplicationGroup",
        "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:dataops-broker",
    ) in grants
    assert (
        "ecs:UpdateService",
        '["arn:aws:ecs:us-east-1:123456789012:service/dataops/airflow-scheduler", '
        '"arn:aws:ecs:us-east-1:123456789012:service/dataops/airflow-worker"]',
    ) in grants


def test_celery_urls_are_built_in_the_container_with_verified_tls():
    """connection-url (the *_CMD of broker_url and result_backend): TLS, the token, database 0 and 1."""
    import importlib.machinery
    import importlib.util

    path = str(Path(__file__).resolve().parents[1] / "images/airflow/connection-url")
    spec = importlib.util.spec_from_loader(
        "connection_url", importlib.machinery.SourceFileLoader("connection_url", path)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    env = {"DATAOPS_BROKER_AUTH_TOKEN": "t0ken", "DATAOPS_BROKER_HOST": "master.broker.cache.amazonaws.com"}
    assert (
        module.url("broker", env)
        == "rediss://:t0ken@master.broker.cache.amazonaws.com:6379/0?ssl_cert_reqs=CERT_REQUIRED"
    )
    assert module.url("result-backend", env).endswith(":6379/1?ssl_cert_reqs=CERT_REQUIRED")
    # Run as Airflow runs a *_CMD: the output is the URL, nothing more (no trailing newline).
    import subprocess
    import sys

    done = subprocess.run([sys.executable, path, "broker"], env=env, capture_output=True, text=True, check=True)
    assert done.stdout == module.url("broker", env)
    missing = subprocess.run([sys.executable, path, "broker"], env={}, capture_output=True, text=True)
    assert missing.returncode != 0 and "DATAOPS_BROKER_AUTH_TOKEN, DATAOPS_BROKER_HOST not set" in missing.stderr


def test_replicas_turn_on_multi_az(serverless_platform):
    from aws_cdk.assertions import Template

    group = only(Template.from_stack(serverless_platform.broker), "AWS::ElastiCache::ReplicationGroup")["Properties"]
    assert group["NumCacheClusters"] == 2
    assert group["AutomaticFailoverEnabled"] is True and group["MultiAZEnabled"] is True
