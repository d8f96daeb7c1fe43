"""Where things live in a checkout of the platform.

The repository root is found from the environment (``DATAOPS_HOME``) or by
walking up from the current directory to the folder holding ``analytics/``.
"""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    env = os.environ.get("DATAOPS_HOME")
    if env:
        return Path(env).resolve()
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for folder in (start, *start.parents):
            if (folder / "analytics" / "dbt" / "dbt_project.yml").is_file():
                return folder
    return Path.cwd()


def analytics_dir() -> Path:
    return repo_root() / "analytics"


def dbt_project_dir() -> Path:
    return analytics_dir() / "dbt"


def dags_dir() -> Path:
    return analytics_dir() / "dags"


def state_dir() -> Path:
    """Local, git-ignored state: sample data, the DuckDB file, Airflow's home."""
    return repo_root() / ".dataops"


def plugins_folder() -> Path:
    """Airflow's plugins folder of the platform (the platform's plugin), inside the package: the Airflow
    image copies the same folder to /opt/airflow/plugins."""
    return Path(__file__).resolve().parent / "airflow" / "ui" / "plugins_folder"
