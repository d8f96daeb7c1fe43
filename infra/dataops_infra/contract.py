"""The environment contract between this infrastructure and the orchestration code.

``src/dataops/config.py`` (and its ``ecs`` dbt executor) read these variables in
the Airflow containers; the dbt container reads the warehouse ones through
``profiles.yml``. Only non-secret values are plain variables: dbt and the workers
sign in to the warehouse with temporary IAM credentials (``DATAOPS_REDSHIFT_METHOD=iam``),
so no warehouse password reaches any container.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import Fn, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from dataops_infra.constructs.warehouse import WarehouseEndpoint

# The Airflow services, each named airflow-<component> on the cluster named after the prefix.
AIRFLOW_COMPONENTS = ["api-server", "scheduler", "dag-processor", "triggerer", "worker"]


def airflow_service_name(component: str) -> str:
    return f"airflow-{component}"


def airflow_service_paths(prefix: str, components: list[str] | None = None) -> list[str]:
    """``cluster/service`` of the Airflow services (rotations restart the ones that read a secret at start)."""
    return [f"{prefix}/{airflow_service_name(c)}" for c in (components or AIRFLOW_COMPONENTS)]


# Published analytics bundles (``dataops publish``): the store is this prefix of the artifacts bucket.
BUNDLES_PREFIX = "bundles"
BUNDLE_NAME = "analytics"
BUNDLE_CLASSPATH = "dataops.airflow.bundle.PublishedDagBundle"
# Seconds between the DAG processor's looks at the store's pointer (a publish is live within it).
BUNDLE_REFRESH_INTERVAL_S = 30


def bundle_store(artifacts_bucket_name: str) -> str:
    """``DATAOPS_BUNDLE_STORE``: where `dataops publish` puts bundles and Airflow and dbt read them."""
    return f"s3://{artifacts_bucket_name}/{BUNDLES_PREFIX}"


def dag_bundle_config_list(artifacts_bucket_name: str) -> str:
    """Airflow's ``[dag_processor] dag_bundle_config_list``: the analytics DAGs from the bundle store."""
    if Token.is_unresolved(artifacts_bucket_name):
        raise ValueError("the artifacts bucket must be named literally (buckets.literal_reference)")
    bundle = {
        "name": BUNDLE_NAME,
        "classpath": BUNDLE_CLASSPATH,
        "kwargs": {"store": bundle_store(artifacts_bucket_name), "refresh_interval": BUNDLE_REFRESH_INTERVAL_S},
    }
    return json.dumps([bundle])


def allow_reading_bundles(role: iam.IRole, bucket: s3.IBucket) -> None:
    """Read-only on the bundle store: its objects, and listing under its prefix only."""
    from dataops_infra.nag import allow_pattern

    allow_pattern(
        role,
        ["s3:GetObject"],
        bucket.arn_for_objects(f"{BUNDLES_PREFIX}/*"),
        "Published analytics bundles (archives, records, the current pointer) are read under bundles/ of "
        "the artifacts bucket; read-only, that prefix only.",
    )
    # Without ListBucket a missing bundle reads as 403 rather than 404; listing is limited to the prefix.
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [BUNDLES_PREFIX, f"{BUNDLES_PREFIX}/*"]}},
        )
    )


@dataclass(frozen=True)
class DbtTaskContract:
    """Where and how the ``ecs`` executor starts a dbt run (``ecs:RunTask``)."""

    cluster_name: str
    # The ARN of the revision this deploy registered: RunTask never picks up a later or earlier one.
    task_definition_arn: str
    container_name: str
    subnet_ids: list[str]
    security_group_ids: list[str]
    log_group_name: str
    log_stream_prefix: str

    def environment(self) -> dict[str, str]:
        return {
            "DATAOPS_DBT_EXECUTOR": "ecs",
            "DATAOPS_ECS_CLUSTER": self.cluster_name,
            "DATAOPS_ECS_TASK_DEFINITION": self.task_definition_arn,
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
    """The warehouse settings shared by the Airflow and dbt containers (who signs in is ``client_environment``)."""
    return {
        "DATAOPS_TARGET": "redshift",
        "DATAOPS_REDSHIFT_HOST": warehouse.host,
        "DATAOPS_REDSHIFT_PORT": str(warehouse.port),
        "DATAOPS_REDSHIFT_DATABASE": warehouse.database,
        "DATAOPS_REDSHIFT_COPY_ROLE_ARN": warehouse.copy_role.role_arn,
        "DATAOPS_S3_BUCKET": data_bucket_name,
        "DATAOPS_ARTIFACTS_BUCKET": artifacts_bucket_name,
    }


def _joined(values: list[str]) -> str:
    """Comma-joined, also when the values are CloudFormation tokens (subnet ids are)."""
    if any(Token.is_unresolved(value) for value in values):
        return Fn.join(",", values)
    return ",".join(values)
