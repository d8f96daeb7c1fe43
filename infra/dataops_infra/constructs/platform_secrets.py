"""The platform's secrets in Secrets Manager: generated at deploy time, never written in code.

Passwords that end up inside connection URLs are letters and digits only, so a
URL can embed them without escaping.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from dataops_infra.nag import acknowledge

METADATA_DB_USER = "airflow"
AIRFLOW_ADMIN_USER = "admin"


def fernet_secret_name(prefix: str) -> str:
    """Created by ``make generate_fernet STORE=1`` (a Fernet key is not a random string CloudFormation can generate)."""
    return f"{prefix}/airflow/fernet-key"


AIRFLOW_KEY_REASON = (
    "Every Airflow component must hold the same value and reads it only at container start, so an automatic "
    "rotation would split the services; rotate by putting a new value and redeploying (infra/README.md, Secrets)."
)
EMBEDDED_IN_URL_REASON = (
    "CloudFormation copies this value into the service (RDS/ElastiCache) and into the connection-URL secret at "
    "deploy time; a rotation Lambda would desynchronise them. Rotate via a deploy (infra/README.md, Secrets)."
)
WAREHOUSE_REASON = (
    "Rotation needs a Lambda with network access to Redshift in the isolated subnets; the password is rotated by "
    "putting a new value and redeploying the warehouse stack (infra/README.md, Secrets); tasks read it at start."
)


@dataclass(frozen=True)
class SecretsProps:
    prefix: str
    warehouse_admin_user: str
    removal_policy: RemovalPolicy


class PlatformSecrets(Construct):
    """Airflow's keys, the admin login, and the database, broker and warehouse credentials."""

    def __init__(self, scope: Construct, construct_id: str, *, props: SecretsProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        self.fernet_key = sm.Secret.from_secret_name_v2(self, "FernetKey", fernet_secret_name(props.prefix))
        self.jwt_secret = self._random(
            "JwtSecret",
            "airflow/jwt-secret",
            "Signs Airflow's API and execution tokens ([api_auth] jwt_secret)",
            64,
            AIRFLOW_KEY_REASON,
        )
        self.api_secret_key = self._random(
            "ApiSecretKey", "airflow/api-secret-key", "Airflow's [api] secret_key", 64, AIRFLOW_KEY_REASON
        )
        self.admin_password = self._random(
            "AdminPassword", "airflow/admin-password", "Password of the Airflow UI user 'admin'", 32, AIRFLOW_KEY_REASON
        )
        self.broker_auth_token = self._random(
            "BrokerAuthToken",
            "broker/auth-token",
            "AUTH token of the Celery broker (ElastiCache)",
            64,
            EMBEDDED_IN_URL_REASON,
        )
        self.metadata_db_credentials = self._credentials(
            "MetadataDbCredentials",
            "metadata-db/credentials",
            "Airflow's RDS PostgreSQL login",
            METADATA_DB_USER,
            EMBEDDED_IN_URL_REASON,
        )
        self.warehouse_credentials = self._credentials(
            "WarehouseCredentials",
            "warehouse/admin",
            "Redshift admin login used by dbt and the loaders",
            props.warehouse_admin_user,
            WAREHOUSE_REASON,
        )

    def _random(self, construct_id: str, name: str, description: str, length: int, rotation_reason: str) -> sm.Secret:
        return self._generated(
            construct_id, name, description, _letters_and_digits(password_length=length), rotation_reason
        )

    def _credentials(
        self, construct_id: str, name: str, description: str, username: str, rotation_reason: str
    ) -> sm.Secret:
        """A JSON secret {"username", "password"}."""
        generator = _letters_and_digits(
            secret_string_template=json.dumps({"username": username}),
            generate_string_key="password",
            # Redshift wants an upper-case letter, a lower-case letter and a digit.
            require_each_included_type=True,
            password_length=32,
        )
        return self._generated(construct_id, name, description, generator, rotation_reason)

    def _generated(
        self,
        construct_id: str,
        name: str,
        description: str,
        generator: sm.SecretStringGenerator,
        rotation_reason: str,
    ) -> sm.Secret:
        secret = sm.Secret(
            self,
            construct_id,
            secret_name=f"{self._props.prefix}/{name}",
            description=description,
            removal_policy=self._props.removal_policy,
            generate_secret_string=generator,
        )
        acknowledge(secret, "AwsSolutions-SMG4", rotation_reason)
        return secret


def _letters_and_digits(**options: object) -> sm.SecretStringGenerator:
    """Letters and digits only, so that a connection URL can embed the value without escaping."""
    return sm.SecretStringGenerator(exclude_punctuation=True, include_space=False, **options)
