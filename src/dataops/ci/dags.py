"""The DAG files import against the project as changed: publish's check, before merge.

The same mechanism as ``dataops publish`` (``dataops.delivery.dag_check``):
Airflow's DagBag imports each file in a subprocess of the platform's Python,
with ``DATAOPS_DBT_PROJECT_DIR`` on the changed project, whose graph artifact
the run has just written from its own parse. A file that fails is named with
its line and Python's reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from dataops.ci.errors import CiError
from dataops.delivery import dag_check

TIMEOUT_S = dag_check.TIMEOUT_S


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
    with tempfile.TemporaryDirectory(prefix="dataops-ci-dags-") as home:
        env = {
            **os.environ,
            "DATAOPS_DBT_PROJECT_DIR": str(project_dir),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_dir),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        }
        env.setdefault("AIRFLOW_HOME", home)
        try:
            done = subprocess.run(
                [sys.executable, "-m", dag_check.__name__, str(dags_dir)],
                env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
            )
        except subprocess.TimeoutExpired:
            raise CiError(f"importing the DAG files of {shown} took over {TIMEOUT_S} s: "
                          "a DAG file must not do slow work at import.") from None
    report = dag_check._report(done.stdout)
    if report is None:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise CiError(f"the DAG files of {shown} could not be checked: {tail}")
    prefix = f"{dag_check.ANALYTICS}/dags/"
    errors = tuple(
        f"{shown}/{dag_check.describe_import_error(path, trace).removeprefix(prefix)}"
        for path, trace in sorted(report["errors"].items())
    )
    return DagCheck(report["dags"], errors, time.monotonic() - started)
