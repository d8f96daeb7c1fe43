"""The environment contract between this infrastructure and the orchestration code.

``src/dataops/config.py`` (and its ``ecs`` dbt executor) read these variables in
the Airflow containers; the dbt container reads the warehouse ones through
``profiles.yml``. Only non-secret values are plain variables: the warehouse
password is always an ECS secret (``WAREHOUSE_PASSWORD_VARIABLE``).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Fn, Token

from dataops_infra.constructs.warehouse import WarehouseEndpoint

WAREHOUSE_PASSWORD_VARIABLE = "DATAOPS_REDSHIFT_PASSWORD"


@dataclass(frozen=True)
class DbtTaskContract:
    """Where and how the ``ecs`` executor starts a dbt run (``ecs:RunTask``)."""

    cluster_name: str
    task_family: str
    container_name: str
    subnet_ids: list[str]
    security_group_ids: list[str]
    log_group_name: str
    log_stream_prefix: str

    def environment(self) -> dict[str, str]:
        return {
            "DATAOPS_DBT_EXECUTOR": "ecs",
            "DATAOPS_ECS_CLUSTER": self.cluster_name,
            "DATAOPS_ECS_TASK_DEFINITION": self.task_family,
            "DATAOPS_ECS_CONTAINER_NAME": self.container_name,
            "DATAOPS_ECS_SUBNETS": _joined(self.subnet_ids),
            "DATAOPS_ECS_SECURITY_GROUPS": _joined(self.security_group_ids),
            "DATAOPS_ECS_LOG_GROUP": self.log_group_name,
            # awslogs names each stream <prefix>/<container name>/<task id>.
            "DATAOPS_ECS_LOG_STREAM_PREFIX": self.log_stream_prefix,
        }


def warehouse_environment(
    warehouse: WarehouseEndpoint, *, data_bucket_name: str, artifacts_bucket_name: str
) -> dict[str, str]:
    """The warehouse settings shared by the Airflow and dbt containers (password excluded)."""
    return {
        "DATAOPS_TARGET": "redshift",
        "DATAOPS_REDSHIFT_HOST": warehouse.host,
        "DATAOPS_REDSHIFT_PORT": str(warehouse.port),
        "DATAOPS_REDSHIFT_DATABASE": warehouse.database,
        "DATAOPS_REDSHIFT_USER": warehouse.user,
        "DATAOPS_REDSHIFT_COPY_ROLE_ARN": warehouse.copy_role.role_arn,
        "DATAOPS_S3_BUCKET": data_bucket_name,
        "DATAOPS_ARTIFACTS_BUCKET": artifacts_bucket_name,
    }


def _joined(values: list[str]) -> str:
    """Comma-joined, also when the values are CloudFormation tokens (subnet ids are)."""
    if any(Token.is_unresolved(value) for value in values):
        return Fn.join(",", values)
    return ",".join(values)
