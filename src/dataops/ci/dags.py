"""The DAG files import against the project as changed: publish's check, before merge.

The same mechanism as ``dataops publish`` (``dataops.delivery.dag_check``):
Airflow's DagBag imports each file in a subprocess of the platform's Python,
with ``DATAOPS_DBT_PROJECT_DIR`` on the changed project, whose graph artifact
the run has just written from its own parse. A file that fails is named with
its line and Python's reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from dataops.ci.errors import CiError
from dataops.delivery import dag_check
from dataops.delivery.errors import DeliveryError


@dataclass(frozen=True)
class DagCheck:
    # DAG ids by file (relative to the DAGs folder).
    dags: dict[str, list[str]]
    # One line per file that does not import: "<folder>/<file> line N does not import: ...".
    errors: tuple[str, ...]
    seconds: float

    @property
    def passed(self) -> bool:
        return not self.errors


def check_dags(dags_dir: Path, project_dir: Path, shown_dir: str | None = None) -> DagCheck:
    """Imports every DAG file of ``dags_dir`` with the project at ``project_dir``."""
    started = time.monotonic()
    shown = (shown_dir or str(dags_dir)).rstrip("/")
    try:
        imported = dag_check.import_dag_files(dags_dir, project_dir, shown)
    except DeliveryError as exc:
        raise CiError(str(exc)) from None
    return DagCheck(imported.dags, tuple(imported.describe_errors(shown)), time.monotonic() - started)
