"""Amazon Redshift: password or IAM authentication (``DATAOPS_REDSHIFT_*``), and
the S3 location its loader stages the sample files in (``DATAOPS_S3_*``).

IAM authentication works as dbt-redshift's ``method: iam`` does: a provisioned
cluster is named by ``DATAOPS_REDSHIFT_CLUSTER_ID`` (the host is then optional);
a Serverless workgroup by ``DATAOPS_REDSHIFT_HOST`` (its endpoint) and, unless
the host is the workgroup's default endpoint, ``DATAOPS_REDSHIFT_WORKGROUP``.
"""

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
    # IAM on a provisioned cluster: its name.
    cluster_id: str = ""
    # IAM on Redshift Serverless: the workgroup's name.
    workgroup: str = ""
    # IAM: the cluster's or workgroup's region (empty: from the host, else AWS_REGION).
    region: str = ""
    # The IAM role Redshift assumes to COPY the sample data from S3.
    copy_role_arn: str = ""
    # TLS is always on; verify-full also checks the server's name against its certificate
    # (redshift_connector verifies against the Amazon CA bundle it ships).
    sslmode: Literal["verify-ca", "verify-full"] = "verify-full"

    @property
    def serverless(self) -> bool:
        """Redshift Serverless, as dbt-redshift judges it: a workgroup, or "serverless" in the host."""
        return bool(self.workgroup) or "serverless" in self.host

    def check(self) -> None:
        """The settings the chosen method needs are set, else a ConfigError naming them."""
        if self.method == "database" and not self.host:
            raise ConfigError(
                "DATAOPS_REDSHIFT_HOST is not set: set it to your cluster's or workgroup's endpoint "
                "(in .env or the environment) to run against Redshift."
            )
        if self.method != "iam":
            return
        if self.cluster_id and self.workgroup:
            raise ConfigError(
                "DATAOPS_REDSHIFT_CLUSTER_ID and DATAOPS_REDSHIFT_WORKGROUP are both set: IAM authentication "
                "uses one, the cluster's name (provisioned) or the workgroup's (Serverless)."
            )
        if self.serverless and not self.host:
            raise ConfigError(
                "DATAOPS_REDSHIFT_HOST is not set: IAM authentication to Redshift Serverless needs the "
                f"endpoint of workgroup {self.workgroup}."
            )
        if not self.serverless and not self.cluster_id:
            raise ConfigError(
                "DATAOPS_REDSHIFT_CLUSTER_ID is not set: IAM authentication needs the cluster's name "
                "(provisioned), or DATAOPS_REDSHIFT_WORKGROUP and DATAOPS_REDSHIFT_HOST (Serverless)."
            )

    def dbt_env(self) -> dict[str, str]:
        """What the ``redshift`` output of profiles.yml reads."""
        self.check()
        env = section_env(
            self,
            "host",
            "port",
            "user",
            "password",
            "database",
            "method",
            "cluster_id",
            "workgroup",
            "region",
            "sslmode",
        )
        env["DATAOPS_REDSHIFT_REGION"] = self.iam_region() or ""
        return env

    def iam_region(self) -> str | None:
        """The region IAM credentials are asked in: DATAOPS_REDSHIFT_REGION, else (as
        redshift_connector does) the host's, else AWS_REGION when there is no host."""
        return self.region or (None if self.host else os.environ.get("AWS_REGION"))

    def connect(self) -> Any:
        """A redshift_connector connection, with a password or IAM credentials."""
        import redshift_connector

        self.check()
        if self.method == "iam":
            where: dict[str, Any] = (
                {"is_serverless": True, "serverless_work_group": self.workgroup or None}
                if self.serverless
                else {"cluster_identifier": self.cluster_id}
            )
            return redshift_connector.connect(
                iam=True,
                host=self.host or None,
                port=self.port,
                database=self.database,
                db_user=self.user,
                region=self.iam_region(),
                sslmode=self.sslmode,
                **where,
            )
        return redshift_connector.connect(
            host=self.host,
            port=self.port,
            database=self.database,
            user=self.user,
            password=self.password.get_secret_value(),
            sslmode=self.sslmode,
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
    conn = settings.section(RedshiftSettings).connect()
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        return [column[0] for column in cursor.description], [tuple(row) for row in cursor.fetchall()]
    finally:
        conn.close()


def execute(settings: Settings, sql: str) -> None:
    conn = settings.section(RedshiftSettings).connect()
    try:
        conn.autocommit = True
        conn.cursor().execute(sql)
    finally:
        conn.close()


def location(settings: Settings) -> str:
    rs = settings.section(RedshiftSettings)
    return f"Redshift database {rs.database} at {rs.host or rs.cluster_id or rs.workgroup}:{rs.port}"


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
    publish_dialect="dataops.wap.dialects.redshift:DIALECT",
    materializations=frozenset({"table", "view", "materialized_view"}),
)
