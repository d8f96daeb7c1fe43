"""The environment of a local Airflow process, embedded or services stack.

Three layers, later ones winning: tuning defaults, the caller's environment
(so any ``AIRFLOW__SECTION__KEY`` can tune a setting), and what the stack
must control. Both stacks share the part below; each adds its own executor,
metadata database, broker and secrets.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from dataops import paths

ADMIN_USER = "admin"
# Defaults the caller's AIRFLOW__* variables may override, on both stacks.
TUNING_DEFAULTS = {
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
}


def airflow_env(
    base: Mapping[str, str],
    *,
    home: Path,
    dags_folder: Path,
    api_port: int,
    passwords_file: Path,
    state_dir: Path,
    dbt_env: Mapping[str, str],
    tuning: Mapping[str, str] | None = None,
    controlled: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``base`` (the caller's environment) between the tuning defaults and what the stack controls.

    ``tuning`` and ``controlled`` are the stack's own additions to each layer;
    ``dbt_env`` is what dbt's profiles.yml reads in the tasks.
    """
    url = f"http://127.0.0.1:{api_port}"
    shared = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        # Tasks find the repository (and so the dbt project) through this.
        "DATAOPS_HOME": str(paths.repo_root()),
        "DATAOPS_STATE_DIR": str(state_dir),
        **dbt_env,
        # Airflow starts its components (and `airflow standalone` its own) by running `airflow` from PATH.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}",
    }
    return {**TUNING_DEFAULTS, **(tuning or {}), **base, **shared, **(controlled or {})}
