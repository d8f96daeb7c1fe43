"""Amazon Redshift: password or IAM authentication (``DATAOPS_REDSHIFT_*``), and
the S3 location its loader stages the sample files in (``DATAOPS_S3_*``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dataops.errors import ConfigError
from dataops.warehouses.base import Rows, SqlDialect, Warehouse, section_env

if TYPE_CHECKING:
    from dataops.config import Settings


class RedshiftSettings(BaseSettings):
    """Amazon Redshift: password or IAM authentication, COPY through S3."""

    model_config = SettingsConfigDict(env_prefix="DATAOPS_REDSHIFT_", env_file=".env", extra="ignore")

    host: str = ""
    port: int = Field(5439, ge=1, le=65535)
    user: str = "awsuser"
    password: SecretStr = SecretStr("")
    database: str = "dev"
    method: Literal["database", "iam"] = "database"
    cluster_id: str = ""
    # The IAM role Redshift assumes to COPY the sample data from S3.
    copy_role_arn: str = ""

    def dbt_env(self) -> dict[str, str]:
        """What the ``redshift`` output of profiles.yml reads."""
        if not self.host:
            raise ConfigError(
                "DATAOPS_REDSHIFT_HOST is not set: set it to your cluster's endpoint "
                "(in .env or the environment) to run against Redshift."
            )
        return section_env(self, "host", "port", "user", "password", "database", "method", "cluster_id")

    def connect(self, region: str | None) -> Any:
        """A redshift_connector connection, with a password or IAM credentials."""
        import redshift_connector

        if self.method == "iam":
            if not self.cluster_id:
                raise ConfigError("DATAOPS_REDSHIFT_CLUSTER_ID is not set: IAM authentication needs the cluster's name.")
            return redshift_connector.connect(
                iam=True,
                host=self.host or None,
                port=self.port,
                database=self.database,
                db_user=self.user,
                cluster_identifier=self.cluster_id,
                region=region,
            )
        if not self.host:
            raise ConfigError("DATAOPS_REDSHIFT_HOST is not set: set it to your cluster's endpoint.")
        return redshift_connector.connect(
            host=self.host,
            port=self.port,
            database=self.database,
            user=self.user,
            password=self.password.get_secret_value(),
        )


class S3Settings(BaseSettings):
    """Where the Redshift loader uploads the sample files for COPY."""

    model_config = SettingsConfigDict(env_prefix="DATAOPS_S3_", env_file=".env", extra="ignore")

    bucket: str = ""
    prefix: str = "tickit/"
    # Empty means AWS itself; tests point this at a loopback S3 server.
    endpoint_url: str | None = None
    # The bucket's region. COPY gets REGION only when this is set (else Redshift reads
    # from its own region); the S3 client falls back to boto3's chain (AWS_REGION...).
    region: str | None = None


def dbt_env(settings: Settings) -> dict[str, str]:
    return settings.section(RedshiftSettings).dbt_env()


def query(settings: Settings, sql: str) -> Rows:
    conn = settings.section(RedshiftSettings).connect(settings.section(S3Settings).region or os.environ.get("AWS_REGION"))
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        return [column[0] for column in cursor.description], [tuple(row) for row in cursor.fetchall()]
    finally:
        conn.close()


def execute(settings: Settings, sql: str) -> None:
    conn = settings.section(RedshiftSettings).connect(settings.section(S3Settings).region or os.environ.get("AWS_REGION"))
    try:
        conn.autocommit = True
        conn.cursor().execute(sql)
    finally:
        conn.close()


def location(settings: Settings) -> str:
    rs = settings.section(RedshiftSettings)
    return f"Redshift database {rs.database} at {rs.host or rs.cluster_id}:{rs.port}"


WAREHOUSE = Warehouse(
    name="redshift",
    title="Amazon Redshift",
    # Spelled as the getting-started guide does: bare names, distkey and sortkey.
    dialect=SqlDialect(quote_identifiers=False, distribution_keys=True),
    dbt_env=dbt_env,
    loader="dataops.tickit.loaders.redshift:RedshiftLoader",
    query=query,
    location=location,
    execute=execute,
    materializations=frozenset({"table", "view", "materialized_view"}),
)
