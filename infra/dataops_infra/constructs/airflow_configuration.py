"""Airflow's configuration as container environment: plain settings and ECS secrets.

Plain variables carry only non-secret settings. Everything that is or contains a
credential (connection URLs, Fernet key, JWT secret...) is an ECS secret that
the task's execution role reads from Secrets Manager when the container starts.
Each component gets only the secrets it needs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_secretsmanager as sm

from dataops_infra.constructs.airflow_task_roles import TASK_LOGS_PREFIX
from dataops_infra.constructs.platform_secrets import AIRFLOW_ADMIN_USER
from dataops_infra.contract import WAREHOUSE_PASSWORD_VARIABLE, bundle_store, dag_bundle_config_list

API_SERVER_PORT = 8080
# Answers 200 while the API server, and through it the metadata database, works (ALB and container checks).
API_SERVER_HEALTH_PATH = "/api/v2/monitor/health"
# Ports the API server reads live task logs from (the worker's and triggerer's log servers).
WORKER_LOG_SERVER_PORT = 8793
TRIGGERER_LOG_SERVER_PORT = 8794
SCHEDULER_HEALTH_PORT = 8974
SCHEDULER_HEALTH_PATH = "/health"
API_SERVER_DNS_NAME = "api-server"
ADMIN_PASSWORD_VARIABLE = "AIRFLOW_ADMIN_PASSWORD"


@dataclass(frozen=True)
class AirflowSecrets:
    fernet_key: sm.ISecret
    jwt_secret: sm.ISecret
    api_secret_key: sm.ISecret
    admin_password: sm.ISecret
    metadata_db_urls: sm.ISecret
    broker_urls: sm.ISecret
    warehouse_credentials: sm.ISecret


@dataclass(frozen=True)
class AirflowConfigurationProps:
    region: str
    namespace_name: str
    base_url: str
    artifacts_bucket_name: str
    # The DATAOPS_* variables: the dbt ECS contract and the warehouse settings.
    dataops_environment: dict[str, str]
    secrets: AirflowSecrets


class AirflowConfiguration:
    """Builds each component's environment and secrets from one set of inputs."""

    def __init__(self, props: AirflowConfigurationProps) -> None:
        self._props = props

    @property
    def execution_api_url(self) -> str:
        return f"http://{API_SERVER_DNS_NAME}.{self._props.namespace_name}:{API_SERVER_PORT}/execution/"

    def environment(self) -> dict[str, str]:
        props = self._props
        return {
            # Airflow's CeleryExecutor keeping a task queued through a broker outage (up to
            # [celery] broker_outage_s, 300 s) rather than failing it at the first refused send.
            "AIRFLOW__CORE__EXECUTOR": "dataops.airflow.celery_executor.BrokerPatientCeleryExecutor",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            # Workers reach the API server's execution API through Cloud Map DNS, inside the VPC.
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": self.execution_api_url,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{AIRFLOW_ADMIN_USER}:admin",
            "AIRFLOW__API__BASE_URL": props.base_url,
            "AIRFLOW__LOGGING__REMOTE_LOGGING": "True",
            "AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER": f"s3://{props.artifacts_bucket_name}/{TASK_LOGS_PREFIX}",
            "AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID": "aws_default",
            # An AWS connection without keys: boto3 falls back to the task role.
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps({"conn_type": "aws", "extra": {"region_name": props.region}}),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            "AWS_DEFAULT_REGION": props.region,
            # The analytics DAGs and dbt project come from published bundles, never from the image.
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": dag_bundle_config_list(props.artifacts_bucket_name),
            "DATAOPS_BUNDLE_STORE": bundle_store(props.artifacts_bucket_name),
            **props.dataops_environment,
        }

    def _common_secrets(self) -> dict[str, ecs.Secret]:
        s = self._props.secrets
        return {
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": ecs.Secret.from_secrets_manager(
                s.metadata_db_urls, "sql_alchemy_conn"
            ),
            "AIRFLOW__CORE__FERNET_KEY": ecs.Secret.from_secrets_manager(s.fernet_key),
            "AIRFLOW__API_AUTH__JWT_SECRET": ecs.Secret.from_secrets_manager(s.jwt_secret),
            "AIRFLOW__API__SECRET_KEY": ecs.Secret.from_secrets_manager(s.api_secret_key),
        }

    def _celery_secrets(self) -> dict[str, ecs.Secret]:
        s = self._props.secrets
        return {
            "AIRFLOW__CELERY__BROKER_URL": ecs.Secret.from_secrets_manager(s.broker_urls, "broker_url"),
            "AIRFLOW__CELERY__RESULT_BACKEND": ecs.Secret.from_secrets_manager(s.metadata_db_urls, "result_backend"),
        }

    def api_server_secrets(self) -> dict[str, ecs.Secret]:
        admin = ecs.Secret.from_secrets_manager(self._props.secrets.admin_password)
        return {**self._common_secrets(), ADMIN_PASSWORD_VARIABLE: admin}

    def scheduler_secrets(self) -> dict[str, ecs.Secret]:
        return {**self._common_secrets(), **self._celery_secrets()}

    def dag_processor_secrets(self) -> dict[str, ecs.Secret]:
        return self._common_secrets()

    def triggerer_secrets(self) -> dict[str, ecs.Secret]:
        return self._common_secrets()

    def worker_secrets(self) -> dict[str, ecs.Secret]:
        warehouse = ecs.Secret.from_secrets_manager(self._props.secrets.warehouse_credentials, "password")
        return {**self._common_secrets(), **self._celery_secrets(), WAREHOUSE_PASSWORD_VARIABLE: warehouse}
