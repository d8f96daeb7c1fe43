"""Airflow's own keys in Secrets Manager: generated at deploy time, rotated every 30 days.

Each Airflow component reads them at start and all must hold the same value, so
a rotation generates the new value and then restarts every Airflow service
(``SecretRotation``); sessions and API tokens issued before it end then. The
Fernet key is different: it encrypts stored connections and variables, so it is
created once by ``make generate_fernet`` and rotated by hand (infra/README.md).
The database, broker and warehouse credentials live beside what they protect
(metadata-db, broker and warehouse stacks).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from dataops_infra.constructs.secret_rotation import SecretRotation, SecretRotationProps


def fernet_secret_name(prefix: str) -> str:
    """Created by ``make generate_fernet STORE=1`` (a Fernet key is not a random string CloudFormation can generate)."""
    return f"{prefix}/airflow/fernet-key"


@dataclass(frozen=True)
class SecretsProps:
    prefix: str
    removal_policy: RemovalPolicy
    log_retention: logs.RetentionDays
    # Every Airflow service ("cluster/service"): all read these keys at start.
    key_readers: list[str]


class PlatformSecrets(Construct):
    """The Fernet key (referenced), the JWT secret and the API secret key."""

    def __init__(self, scope: Construct, construct_id: str, *, props: SecretsProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        self.fernet_key = sm.Secret.from_secret_name_v2(self, "FernetKey", fernet_secret_name(props.prefix))
        self.jwt_secret = self._key("JwtSecret", "airflow/jwt-secret", "Signs Airflow's API and execution tokens")
        self.api_secret_key = self._key("ApiSecretKey", "airflow/api-secret-key", "Airflow's [api] secret_key")

    def _key(self, construct_id: str, name: str, description: str) -> sm.Secret:
        secret = sm.Secret(
            self,
            construct_id,
            secret_name=f"{self._props.prefix}/{name}",
            description=description,
            removal_policy=self._props.removal_policy,
            generate_secret_string=sm.SecretStringGenerator(
                exclude_punctuation=True, include_space=False, password_length=64
            ),
        )
        SecretRotation(
            self,
            f"{construct_id}Rotation",
            props=SecretRotationProps(
                secret=secret,
                log_retention=self._props.log_retention,
                password_length=64,
                restart_services=self._props.key_readers,
            ),
        )
        return secret
