"""What dbt tasks need when they run (never at DAG-parse time)."""

from __future__ import annotations

from pathlib import Path

from airflow.sdk.exceptions import AirflowException


def runtime_settings():
    from dataops.config import load_settings
    from dataops.errors import DataOpsError

    try:
        return load_settings()
    except DataOpsError as exc:
        raise AirflowException(str(exc)) from None


def load_graph_for_task(graph_path: str | None, project_dir: str | None):
    from dataops.dbt.graph import DbtGraph
    from dataops.dbt.manifest import default_graph_path
    from dataops.errors import DataOpsError

    path = Path(graph_path) if graph_path else default_graph_path(Path(project_dir or runtime_settings().dbt_project_dir))
    try:
        return DbtGraph.read(path)
    except DataOpsError as exc:
        raise AirflowException(str(exc)) from None
