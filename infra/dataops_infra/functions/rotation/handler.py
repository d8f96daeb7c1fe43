"""Secrets Manager rotation for the platform's generated secrets (standard library and boto3 only).

The four rotation steps, for a secret that is a plain string or a JSON object with a
``password`` field (``PASSWORD_FIELD``), applied to what holds it (``TARGET_KIND``):

- ``elasticache-auth``: the broker's AUTH token, with ElastiCache's ROTATE strategy: the
  new token and the previous one are both accepted, so Celery clients that started with
  the old token keep working until the next rotation;
- ``redshift-cluster`` / ``redshift-serverless``: the warehouse admin password, set through
  the Redshift API (only the deploy-time user setup uses it, nobody at run time);
- ``none``: a key only the Airflow services read (JWT secret, API secret key).

After the new value is current, the ECS services in ``RESTART_SERVICES``
(``cluster/service`` pairs, comma-separated) start new tasks, which read it; the tasks
they replace held a value that stays valid for them until then.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

log = logging.getLogger()
log.setLevel(logging.INFO)

CURRENT, PENDING = "AWSCURRENT", "AWSPENDING"


class Rotation:
    def __init__(self, secrets: Any, clients: Any, environment: dict[str, str]) -> None:
        self.secrets = secrets
        self.clients = clients  # a callable: service name -> boto3 client
        self.kind = environment.get("TARGET_KIND", "none")
        self.target = environment.get("TARGET_ID", "")
        self.field = environment.get("PASSWORD_FIELD", "")
        self.length = int(environment.get("PASSWORD_LENGTH", "32"))
        self.restart = [item for item in environment.get("RESTART_SERVICES", "").split(",") if item]

    def run(self, step: str, arn: str, token: str) -> None:
        metadata = self.secrets.describe_secret(SecretId=arn)
        if not metadata.get("RotationEnabled"):
            raise ValueError(f"rotation is not enabled for {arn}")
        stages = metadata["VersionIdsToStages"].get(token)
        if stages is None:
            raise ValueError(f"version {token} of {arn} is not being rotated")
        if CURRENT in stages:
            log.info("version %s of %s is already current", token, arn)
            return
        if PENDING not in stages:
            raise ValueError(f"version {token} of {arn} is not pending rotation")
        getattr(
            self, {"createSecret": "create", "setSecret": "apply", "testSecret": "test", "finishSecret": "finish"}[step]
        )(arn, token, metadata)

    def _value(self, arn: str, stage: str, token: str | None = None) -> str:
        options = {"VersionId": token} if token else {}
        return self.secrets.get_secret_value(SecretId=arn, VersionStage=stage, **options)["SecretString"]

    def password(self, secret_string: str) -> str:
        return json.loads(secret_string)[self.field] if self.field else secret_string

    def create(self, arn: str, token: str, metadata: dict) -> None:
        try:
            self._value(arn, PENDING, token)
            return  # created by an earlier try of this rotation
        except self.secrets.exceptions.ResourceNotFoundException:
            pass
        new = self.secrets.get_random_password(
            PasswordLength=self.length, ExcludePunctuation=True, IncludeSpace=False, RequireEachIncludedType=True
        )["RandomPassword"]
        if self.field:
            value = json.loads(self._value(arn, CURRENT))
            value[self.field] = new
            new = json.dumps(value)
        self.secrets.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=new, VersionStages=[PENDING])

    def apply(self, arn: str, token: str, metadata: dict) -> None:
        new = self.password(self._value(arn, PENDING, token))
        if self.kind == "elasticache-auth":
            self.clients("elasticache").modify_replication_group(
                ReplicationGroupId=self.target, AuthToken=new, AuthTokenUpdateStrategy="ROTATE", ApplyImmediately=True
            )
        elif self.kind == "redshift-cluster":
            self.clients("redshift").modify_cluster(ClusterIdentifier=self.target, MasterUserPassword=new)
        elif self.kind == "redshift-serverless":
            user = json.loads(self._value(arn, PENDING, token))["username"]
            self.clients("redshift-serverless").update_namespace(
                namespaceName=self.target, adminUsername=user, adminUserPassword=new
            )
        elif self.kind != "none":
            raise ValueError(f"unknown TARGET_KIND {self.kind!r}")

    def test(self, arn: str, token: str, metadata: dict) -> None:
        if not self.password(self._value(arn, PENDING, token)):
            raise ValueError(f"the pending value of {arn} is empty")

    def finish(self, arn: str, token: str, metadata: dict) -> None:
        current = next(v for v, stages in metadata["VersionIdsToStages"].items() if CURRENT in stages)
        self.secrets.update_secret_version_stage(
            SecretId=arn, VersionStage=CURRENT, MoveToVersionId=token, RemoveFromVersionId=current
        )
        ecs = self.clients("ecs") if self.restart else None
        for item in self.restart:
            cluster, service = item.split("/", 1)
            try:
                ecs.update_service(cluster=cluster, service=service, forceNewDeployment=True)
            except Exception as error:  # the new value is current; a service not deployed yet starts with it
                log.warning("could not restart %s: %s", item, error)


def handler(event: dict, context: Any) -> None:
    import boto3

    Rotation(boto3.client("secretsmanager"), boto3.client, dict(os.environ)).run(
        event["Step"], event["SecretId"], event["ClientRequestToken"]
    )
