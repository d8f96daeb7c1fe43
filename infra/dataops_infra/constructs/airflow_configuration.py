"""Airflow's configuration as container environment: plain settings and ECS secrets.

Plain variables carry only non-secret settings. Airflow's keys (Fernet, JWT, API
secret key) and the broker's AUTH token are ECS secrets that the task's execution
role reads from Secrets Manager when the container starts. The metadata database's
password is in no variable at all: RDS rotates it, and each new connection reads
the current one (``DATAOPS_METADATA_DB_SECRET_ARN``, dataops.aws.metadata_db).
Celery's URLs are printed at start from the broker host and token
(``*_CMD``, infra/images/airflow/connection-url). Each component gets only what it
needs: the workers get neither the metadata database nor its secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_secretsmanager as sm

from dataops_infra.constructs.airflow_task_roles import TASK_LOGS_PREFIX
from dataops_infra.contract import bundle_store, dag_bundle_config_list

API_SERVER_PORT = 8080
# Answers 200 while the API server, and through it the metadata database, works (ALB and container checks).
API_SERVER_HEALTH_PATH = "/api/v2/monitor/health"
# Ports the API server reads live task logs from (the worker's and triggerer's log servers).
WORKER_LOG_SERVER_PORT = 8793
TRIGGERER_LOG_SERVER_PORT = 8794
SCHEDULER_HEALTH_PORT = 8974
SCHEDULER_HEALTH_PATH = "/health"
API_SERVER_DNS_NAME = "api-server"
CONNECTION_URL = "/opt/dataops/bin/connection-url"
BROKER_TOKEN_VARIABLE = "DATAOPS_BROKER_AUTH_TOKEN"
METADATA_DB_SECRET_VARIABLE = "DATAOPS_METADATA_DB_SECRET_ARN"
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
# FAB's settings (OIDC sign-in, roles from groups): infra/images/airflow/webserver_config.py.
FAB_CONFIG_FILE = "/opt/airflow/webserver_config.py"


@dataclass(frozen=True)
class AirflowSecrets:
    fernet_key: sm.ISecret
    jwt_secret: sm.ISecret
    api_secret_key: sm.ISecret
    broker_auth_token: sm.ISecret


@dataclass(frozen=True)
class MetadataDatabaseAccess:
    """How the control plane reaches the metadata database: a URL without password, and the secret RDS rotates."""

    sql_alchemy_conn: str
    password_secret_arn: str


@dataclass(frozen=True)
class SignInSettings:
    """The OIDC identity provider users sign in with (FAB auth manager, roles from groups)."""

    issuer: str
    client_id: str


@dataclass(frozen=True)
class AirflowConfigurationProps:
    region: str
    namespace_name: str
    base_url: str
    artifacts_bucket_name: str
    # The DATAOPS_* variables: the dbt ECS contract and the warehouse settings.
    dataops_environment: dict[str, str]
    secrets: AirflowSecrets
    metadata_db: MetadataDatabaseAccess
    broker_host: str
    broker_port: int
    sign_in: SignInSettings


class AirflowConfiguration:
    """Builds each component's environment and secrets from one set of inputs."""

    def __init__(self, props: AirflowConfigurationProps) -> None:
        self._props = props

    @property
    def execution_api_url(self) -> str:
        return f"http://{API_SERVER_DNS_NAME}.{self._props.namespace_name}:{API_SERVER_PORT}/execution/"

    def environment(self) -> dict[str, str]:
        """What every component gets."""
        props = self._props
        return {
            # Airflow's CeleryExecutor keeping a task queued through a broker outage (up to
            # [celery] broker_outage_s, 300 s) rather than failing it at the first refused send.
            "AIRFLOW__CORE__EXECUTOR": "dataops.airflow.celery_executor.BrokerPatientCeleryExecutor",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            # Per-user sign-in with roles (FAB), from the identity provider's groups.
            "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
            "AIRFLOW__FAB__CONFIG_FILE": FAB_CONFIG_FILE,
            "DATAOPS_OIDC_ISSUER": props.sign_in.issuer,
            "DATAOPS_OIDC_CLIENT_ID": props.sign_in.client_id,
            # Workers reach the API server's execution API through Cloud Map DNS, inside the VPC.
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": self.execution_api_url,
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

    def metadata_db_environment(self) -> dict[str, str]:
        """The control plane's database settings (no password: read per connection from the secret)."""
        return {
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self._props.metadata_db.sql_alchemy_conn,
            METADATA_DB_SECRET_VARIABLE: self._props.metadata_db.password_secret_arn,
        }

    def celery_environment(self) -> dict[str, str]:
        """Broker and result backend (both on ElastiCache): URLs printed at start from host and token."""
        return {
            "AIRFLOW__CELERY__BROKER_URL_CMD": f"{CONNECTION_URL} broker",
            "AIRFLOW__CELERY__RESULT_BACKEND_CMD": f"{CONNECTION_URL} result-backend",
            "DATAOPS_BROKER_HOST": self._props.broker_host,
            "DATAOPS_BROKER_PORT": str(self._props.broker_port),
        }

    def _common_secrets(self) -> dict[str, ecs.Secret]:
        s = self._props.secrets
        return {
            "AIRFLOW__CORE__FERNET_KEY": ecs.Secret.from_secrets_manager(s.fernet_key),
            "AIRFLOW__API_AUTH__JWT_SECRET": ecs.Secret.from_secrets_manager(s.jwt_secret),
            "AIRFLOW__API__SECRET_KEY": ecs.Secret.from_secrets_manager(s.api_secret_key),
        }

    def _celery_secrets(self) -> dict[str, ecs.Secret]:
        return {BROKER_TOKEN_VARIABLE: ecs.Secret.from_secrets_manager(self._props.secrets.broker_auth_token)}

    def control_plane_secrets(self, *, celery: bool = False) -> dict[str, ecs.Secret]:
        return {**self._common_secrets(), **(self._celery_secrets() if celery else {})}

    def worker_secrets(self) -> dict[str, ecs.Secret]:
        return {**self._common_secrets(), **self._celery_secrets()}
