"""The environment every component of the services stack runs with.

Three layers, later ones winning: the stack's tuning defaults, the caller's
environment (so any ``AIRFLOW__SECTION__KEY`` can tune a setting), and what
the stack must control (executor, databases, broker, ports, secrets).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from dataops import paths
from dataops.local.dag_states import airflow_settings
from dataops.local.services.config import ServicesConfig
from dataops.local.services.credentials import ADMIN_USER, StackSecrets, passwords_file

STACK_ID_VARIABLE = "DATAOPS_SERVICES_STACK_ID"

# Defaults an operator may override with AIRFLOW__* variables.
TUNING_DEFAULTS = {
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    # A task whose worker died is retried (after its heartbeat times out)
    # instead of failing the run; DAGs may set their own retries.
    "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "2",
    "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "30",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "120",
    "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "60",
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
    # One API worker: on a small machine each one costs a whole Airflow import at start.
    "AIRFLOW__API__WORKERS": "1",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    # Celery's default (24 h) would leave a task lost with its worker queued for a day.
    "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "3600",
}


def component_env(config: ServicesConfig, secrets: StackSecrets, base: dict[str, str] | None = None) -> dict[str, str]:
    base = dict(os.environ if base is None else base)
    bin_dir = str(Path(sys.executable).parent)
    return {**TUNING_DEFAULTS, **base, **_controlled(config, secrets), "PATH": f"{bin_dir}{os.pathsep}{base.get('PATH', '')}"}


def _controlled(config: ServicesConfig, secrets: StackSecrets) -> dict[str, str]:
    pg = config.pg
    metadata_url = pg.sqlalchemy_url(config.metadata_db)
    dags = config.dags_folders or (paths.dags_dir(),)
    return {
        STACK_ID_VARIABLE: config.stack_id,
        "AIRFLOW_HOME": str(config.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags[0]),
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(_bundles(dags)),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(config.workers * config.worker_concurrency),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        "AIRFLOW__CORE__FERNET_KEY": secrets.fernet_key,
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.jwt_secret,
        "AIRFLOW__API__SECRET_KEY": secrets.api_secret_key,
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file(config)),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(config.api_port),
        "AIRFLOW__API__BASE_URL": config.url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{config.url}/execution/",
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
        # The DAGs run against the PostgreSQL warehouse, unchanged.
        "DATAOPS_HOME": str(paths.repo_root()),
        # The stack's folder is <state dir>/services; run artifacts go beside it.
        "DATAOPS_STATE_DIR": str(config.folder.parent),
        "DATAOPS_TARGET": "postgres",
        "DATAOPS_PG_HOST": pg.host,
        "DATAOPS_PG_PORT": str(pg.port),
        "DATAOPS_PG_USER": pg.user,
        "DATAOPS_PG_PASSWORD": pg.password,
        "DATAOPS_PG_DATABASE": config.warehouse_db,
    }


def _bundles(dags: tuple[Path, ...]) -> list[dict]:
    bundles = []
    for index, folder in enumerate(dags):
        name = "dags-folder" if index == 0 else f"dags-{index}-{folder.name}"
        bundles.append(
            {"name": name, "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle", "kwargs": {"path": str(folder)}}
        )
    return bundles
