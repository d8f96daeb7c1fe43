"""Importing a bundle's DAG files the way Airflow will, before the bundle is published.

The files are imported by Airflow's own ``BundleDagBag`` in a subprocess of
the platform's Python (a DAG file may do anything at import; it must not do
it in the publisher's process), with ``DATAOPS_DBT_PROJECT_DIR`` pointing at
the bundle's dbt project, so ``DbtDag`` reads the bundle's graph artifact.
``python -m dataops.delivery.dag_check DAGS_DIR`` is that subprocess: it
prints one JSON line, ``{"errors": {file: traceback}, "dags": {file: [dag ids]}}``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dataops.delivery.errors import DeliveryError
from dataops.delivery.git import ANALYTICS, Commit

TIMEOUT_S = 600
_MARKER = "dataops-dag-check:"
_FRAME = re.compile(r'File "([^"]+)", line (\d+)')


@dataclass(frozen=True)
class DagImport:
    """What importing a folder of DAG files gave: DAG ids by file, and Airflow's traceback by file."""

    dags: dict[str, list[str]]
    errors: dict[str, str]

    def describe_errors(self, shown_dir: str) -> list[str]:
        """``<shown_dir>/x.py line 3 does not import: NameError: ...``, one per failing file."""
        return [describe_import_error(path, self.errors[path], shown_dir) for path in sorted(self.errors)]


def import_dag_files(dags_dir: Path, dbt_project_dir: Path, shown_dir: str) -> DagImport:
    """Imports every DAG file of ``dags_dir`` in a subprocess, with ``dbt_project_dir`` as the project.

    DeliveryError (naming ``shown_dir``) when the files could not be checked at all.
    """
    with tempfile.TemporaryDirectory(prefix="dataops-dag-check-") as home:
        env = {
            **os.environ,
            "DATAOPS_DBT_PROJECT_DIR": str(dbt_project_dir),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_dir),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        }
        # Never let the check create ~/airflow: a home of its own unless one is configured.
        env.setdefault("AIRFLOW_HOME", home)
        try:
            done = subprocess.run(
                [sys.executable, "-m", __name__, str(dags_dir)],
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise DeliveryError(
                f"importing the DAG files of {shown_dir} took over {TIMEOUT_S} s; a DAG file must not do slow work at import."
            ) from None
    report = _report(done.stdout)
    if report is None:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise DeliveryError(f"the DAG files of {shown_dir} could not be checked: {tail}")
    return DagImport(report["dags"], report["errors"])


def check_dag_files(dags_dir: Path, dbt_project_dir: Path, commit: Commit) -> dict[str, list[str]]:
    """The DAG ids of each file of ``dags_dir``; DeliveryError naming the files that fail to import."""
    try:
        imported = import_dag_files(dags_dir, dbt_project_dir, f"{ANALYTICS}/dags")
    except DeliveryError as exc:
        raise DeliveryError(f"commit {commit.short}: {exc}") from None
    if imported.errors:
        described = "; ".join(imported.describe_errors(f"{ANALYTICS}/dags"))
        fix = "Fix the DAG files" if len(imported.errors) > 1 else "Fix the DAG file"
        raise DeliveryError(f"commit {commit.short}: {described}. {fix} and commit again; nothing was published.")
    return imported.dags


def _report(stdout: str) -> dict | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith(_MARKER):
            return json.loads(line[len(_MARKER) :])
    return None


def describe_import_error(rel_path: str, trace: str, shown_dir: str = f"{ANALYTICS}/dags") -> str:
    """``analytics/dags/x.py line 3 does not import: NameError: ...`` from Airflow's traceback."""
    lines = [line.strip() for line in trace.strip().splitlines() if line.strip()]
    error = lines[-1] if lines else "unknown error"
    line_no = ""
    for path, number in _FRAME.findall(trace):
        if path.endswith("/" + rel_path) or path == rel_path:
            line_no = f" line {number}"
    return f"{shown_dir.rstrip('/')}/{rel_path}{line_no} does not import: {error.rstrip('.')}"


def _main(dags_dir: str) -> None:
    from airflow.dag_processing.dagbag import BundleDagBag

    folder = Path(dags_dir)
    bag = BundleDagBag(dag_folder=folder, bundle_path=folder)
    dags: dict[str, list[str]] = {}
    for dag in bag.dags.values():
        dags.setdefault(Path(dag.fileloc).relative_to(folder).as_posix(), []).append(dag.dag_id)
    report = {"errors": dict(bag.import_errors), "dags": {k: sorted(v) for k, v in dags.items()}}
    print(_MARKER + json.dumps(report), flush=True)


if __name__ == "__main__":
    _main(sys.argv[1])
