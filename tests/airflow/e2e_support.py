"""A running local Airflow with ``redshift_transformations`` over a private
copy of the TICKIT dbt project and a warehouse of its own (DuckDB or a fresh
PostgreSQL database), for the end-to-end tests."""

from __future__ import annotations

import json
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dataops import paths
from dataops.airflow.executors.base import safe_name
from dataops.local.api import AirflowApi, RunInfo, TaskInfo
from dataops.local.harness import LocalAirflow
from dataops.config import Settings
from dataops.dbt.graph import DbtGraph
from dataops.dbt.manifest import default_graph_path, ensure_compiled
from dataops.dbt.project import DbtProject

DAG_ID = "redshift_transformations"
SCALE = 0.02
# A DAG of a few hundred models, run beside the file's other runs (test_e2e.py's first and last tests).
MANY_MODELS_DAG = "many_models"
MANY_MODELS = 200
# A wait for a task's log longer than this is reported as a warning (log_records).
SLOW_LOG_S = 5.0


@dataclass
class E2EStack:
    target: str
    settings: Settings
    airflow: LocalAirflow
    api: AirflowApi
    query: Callable[[str], list[tuple]]
    execute: Callable[[str], None]
    # The store (on the loopback S3 server) whose current version the stack serves beside its DAG folder.
    bundle_store: object = None
    # The synthetic project of MANY_MODELS_DAG (many_models_project).
    many_models_project: Path | None = None

    @property
    def project_dir(self) -> Path:
        return Path(self.settings.dbt_project_dir)

    def graph(self) -> DbtGraph:
        return DbtGraph.read(default_graph_path(self.project_dir))

    def relation(self, model: str, schema: str | None = None) -> str:
        return f'"{schema or self.settings.models_schema}"."{model}"'

    def versions(self) -> list:
        """The DAG's published versions, newest first (dataops.wap)."""
        from dataops.wap.publisher import Publisher

        return Publisher(self.settings).versions(DAG_ID)

    def place(self, run_id: str) -> str:
        """The schema a run builds into before it is published."""
        from dataops.wap.place import RunPlace
        from dataops.wap.publisher import Publisher

        held = Publisher(self.settings).find(RunPlace(DAG_ID, run_id, "", "", self.settings.models_schema))
        assert held is not None, f"run {run_id} holds no place"
        return held.schema

    def run(self, timeout_s: float = 240) -> tuple[RunInfo, dict[str, TaskInfo]]:
        run_id = self.api.trigger(DAG_ID)
        info = self.api.wait_for_run(DAG_ID, run_id, timeout_s=timeout_s)
        return info, self.api.tasks(DAG_ID, run_id)

    def rerun_cleared(
        self, run_id: str, task_ids: list[str], only_failed: bool = False, timeout_s: float = 240
    ) -> tuple[list[str], RunInfo]:
        """Clear tasks with their downstream (only the failed ones if asked), as the UI does, and wait for the run."""
        cleared = self.api.clear(DAG_ID, run_id, task_ids, downstream=True, only_failed=only_failed)
        deadline = time.monotonic() + 30
        # The run is queued again; wait until it leaves the finished state it had.
        while self.api.run(DAG_ID, run_id).state in {"success", "failed"} and time.monotonic() < deadline:
            time.sleep(0.2)
        return cleared, self.api.wait_for_run(DAG_ID, run_id, timeout_s=timeout_s)

    @contextmanager
    def model_edited(self, relative_path: str, sql: str) -> Iterator[None]:
        """A model file changed and the graph recompiled, leaving no moment in which the
        DAG processor could see the file newer than the graph; afterwards the file and
        the graph compiled from it as they were (the project is as before)."""
        model, graph_file = self.project_dir / relative_path, default_graph_path(self.project_dir)
        old_sql, old_graph = model.read_text(), graph_file.read_bytes()
        staging = self.project_dir.parent / "dbt-staging"
        shutil.rmtree(staging, ignore_errors=True)
        copy_project(self.project_dir, staging)
        (staging / relative_path).write_text(sql)
        ensure_compiled(DbtProject.from_settings(self.settings, staging))
        model.write_text(sql)
        shutil.copy2(default_graph_path(staging), graph_file)
        try:
            yield
        finally:
            # The graph first: a parse in between finds it newer than the file and current.
            graph_file.write_bytes(old_graph)
            model.write_text(old_sql)

    def log_records(
        self, run_id: str, task_id: str, try_number: int,
        until: Callable[[list[tuple[str, str]]], bool] = lambda records: True, timeout_s: float = 20,
    ) -> list[tuple[str, str]]:
        """A task try's log records, read again until ``until`` holds or ``timeout_s`` passed: the
        triggerer writes a trigger's records on its own time, and Airflow 3.3's can drop its last
        ones (apache/airflow#66158), so a task can end before its log does."""
        started = time.monotonic()
        while True:
            records = self.api.log_records(DAG_ID, run_id, task_id, try_number)
            done = until(records)
            waited = time.monotonic() - started
            if done or waited > timeout_s:
                if waited > SLOW_LOG_S:
                    # Shown in the run's warnings summary: where a passing test spent its time.
                    warnings.warn(
                        f"the log of {task_id} (try {try_number}) of run {run_id} "
                        f"{'had what was waited for after' if done else 'still lacked it after'} {waited:.0f} s",
                        stacklevel=2,
                    )
                return records
            time.sleep(0.5)

    def log(self, run_id: str, task_id: str, try_number: int, *wanted: str, timeout_s: float = 20) -> str:
        """A task try's log as text, read again until it has every ``wanted`` text (see log_records)."""
        records = self.log_records(
            run_id, task_id, try_number, lambda r: all(w in "\n".join(t for _, t in r) for w in wanted), timeout_s
        )
        return "\n".join(text for _, text in records)

    def run_results(self, run_id: str) -> dict[str, dict]:
        """run_results.json of every dbt process of this run, by "<task_id>.<try>"."""
        folder = Path(self.settings.state_dir) / "runs" / DAG_ID / safe_name(run_id)
        return {f.parent.name: json.loads(f.read_text()) for f in sorted(folder.glob("*/run_results.json"))}


def copy_project(source: Path, dest: Path) -> None:
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))


def prepare_dags_folder(folder: Path) -> Path:
    """A copy of analytics/dags: every DAG file the analysts ship."""
    folder.mkdir(parents=True, exist_ok=True)
    for dag_file in paths.dags_dir().glob("*.py"):
        shutil.copy2(dag_file, folder / dag_file.name)
    return folder


def many_models_project(root: Path, settings: Settings) -> Path:
    """A synthetic project of MANY_MODELS models, compiled: cheap models (views over 200 rows, no
    data tests but the sources'), built straight into a DuckDB file of the project's own."""
    from dataops.dbt import synthetic

    project = synthetic.generate(root, MANY_MODELS, name="many").path
    for tests in (project / "models").glob("*/_*.yml"):
        if tests.name != "_sources.yml":
            tests.unlink()
    dbt_project = project / "dbt_project.yml"
    dbt_project.write_text(dbt_project.read_text().replace("+materialized: table", "+materialized: view"))
    profiles = project / "profiles.yml"
    own_file = json.dumps(str(root / "many.duckdb"))
    profiles.write_text(profiles.read_text().replace("\"{{ env_var('DATAOPS_DUCKDB_PATH') }}\"", own_file))
    ensure_compiled(DbtProject.from_settings(settings, project))
    return project
