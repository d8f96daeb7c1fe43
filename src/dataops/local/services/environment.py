"""The environment every component of the services stack runs with: the
local Airflow environment (``dataops.local.airflow_env``) with the stack's
tuning defaults, the CeleryExecutor on PostgreSQL and Redis, and its secrets.
"""

from __future__ import annotations

import os

from dataops.local.airflow_env import airflow_env
from dataops.local.dag_states import airflow_settings
from dataops.local.services.config import ServicesConfig
from dataops.local.services.credentials import StackSecrets, passwords_file

STACK_ID_VARIABLE = "DATAOPS_SERVICES_STACK_ID"
CELERY_EXECUTOR = "dataops.airflow.celery_executor.BrokerPatientCeleryExecutor"

# Defaults an operator may override with AIRFLOW__* variables.
TUNING_DEFAULTS = {
    # A task whose worker died is retried (after its heartbeat times out)
    # instead of failing the run; DAGs may set their own retries.
    "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "2",
    "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "30",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "120",
    "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "60",
    # One API worker: on a small machine each one costs a whole Airflow import at start.
    "AIRFLOW__API__WORKERS": "1",
    # Celery's default (24 h) would leave a task lost with its worker queued for a day.
    "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "3600",
}


def component_env(config: ServicesConfig, secrets: StackSecrets, base: dict[str, str] | None = None) -> dict[str, str]:
    return airflow_env(
        os.environ if base is None else base,
        home=config.airflow_home,
        dags=config.dag_source(),
        api_port=config.api_port,
        passwords_file=passwords_file(config),
        # The stack's folder is <state dir>/services; run artifacts go beside it.
        state_dir=config.folder.parent,
        # The DAGs run against the stack's PostgreSQL warehouse, unchanged.
        dbt_env={"DATAOPS_TARGET": "postgres", **config.warehouse().dbt_env()},
        tuning={
            **TUNING_DEFAULTS,
            # A task kept queued through a broker outage must not be failed as stuck in the meantime.
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": str(max(600, config.broker_outage_s + 120)),
        },
        controlled=_controlled(config, secrets),
    )


def _controlled(config: ServicesConfig, secrets: StackSecrets) -> dict[str, str]:
    metadata_url = config.pg.sqlalchemy_url(config.metadata_db)
    return {
        STACK_ID_VARIABLE: config.stack_id,
        # Airflow's CeleryExecutor, keeping a task queued through a broker outage of up to
        # broker_outage_s instead of failing it at the first refused send.
        "AIRFLOW__CORE__EXECUTOR": CELERY_EXECUTOR,
        "AIRFLOW__CELERY__BROKER_OUTAGE_S": str(config.broker_outage_s),
        "AIRFLOW__CORE__PARALLELISM": str(config.workers * config.worker_concurrency),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        "AIRFLOW__CORE__FERNET_KEY": secrets.fernet_key,
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.jwt_secret,
        "AIRFLOW__API__SECRET_KEY": secrets.api_secret_key,
        "AIRFLOW__CELERY__BROKER_URL": config.redis.url,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata_url,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(config.worker_concurrency),
        # Keys of concurrent stacks on one Redis never meet.
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX": config.redis_prefix,
        # A task's message is acknowledged when it ends, so a lost worker's task is redelivered.
        "AIRFLOW__CELERY__TASK_ACKS_LATE": "True",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        # DAGs appear ready to trigger; schedules start runs only with --scheduled-runs.
        **airflow_settings(config.scheduled_runs),
    }
