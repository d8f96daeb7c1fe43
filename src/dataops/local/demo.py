"""The main job, end to end on the embedded stack: sample data into the
configured warehouse (DuckDB by default, or PostgreSQL or Redshift), the
TICKIT transformations run by Airflow, the results shown."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dataops.config import Settings
from dataops.dbt import DbtProject
from dataops.errors import DataOpsError
from dataops.local.airflow_home import AirflowHome

DEMO_DAG = "redshift_transformations"
# Each model and the order that puts its top rows first.
MODELS = {
    "all_gross_sales_model": "total_price desc, eventid",
    "percentile_sales_model": "percentile, total_price desc, eventid",
    "top_sales_99.9_percentile_model": "total_price desc, eventname",
    "top_buyers_by_quantity_model": "total_quantity desc, buyerid",
    "top_buyer_data_model": "total_quantity desc, lastname, firstname",
}


@dataclass
class Timings:
    steps: list[tuple[str, float]] = field(default_factory=list)

    @contextmanager
    def step(self, name: str, announce: Callable[[str], None]) -> Iterator[None]:
        announce(name)
        started = time.monotonic()
        yield
        self.steps.append((name, time.monotonic() - started))

    @property
    def total(self) -> float:
        return sum(seconds for _, seconds in self.steps)


def compile_project(settings: Settings) -> None:
    """Compile the dbt project's graph, which the DAG files read (``dataops dbt manifest``),
    and its docs site, unless the project is unchanged since the last compile."""
    from dataops.dbt.manifest import ensure_compiled

    ensure_compiled(DbtProject.from_settings(settings), docs=True)


@dataclass(frozen=True)
class DagRunSummary:
    run_id: str
    duration_s: float
    task_states: dict[str, str]


def run_dag(
    settings: Settings,
    dag_id: str = DEMO_DAG,
    timeout_s: float = 900,
    after_run: Callable[[DagRunSummary], None] | None = None,
    runs: int = 1,
) -> DagRunSummary:
    """Start the embedded Airflow, trigger ``dag_id`` ``runs`` times one after
    the other (``after_run`` sees each), stop Airflow; returns the last run.

    The run goes through the real scheduler and triggerer (each model its own
    task), which ``airflow dags test`` cannot do.
    """
    from dataops.local.api import AirflowApi
    from dataops.local.embedded import EmbeddedStack
    from dataops.local.processes import free_port

    stack = EmbeddedStack(AirflowHome.for_settings(settings, api_port=free_port(), scheduled_runs=False))
    try:
        stack.start()
        api = AirflowApi(stack.url, *stack.admin)
        api.wait_for_dag(dag_id)
        return trigger_runs(api, dag_id, stack.home.path / "logs", timeout_s, after_run, runs)
    finally:
        stack.stop()


def trigger_runs(
    api,
    dag_id: str,
    logs_dir: Path,
    timeout_s: float = 900,
    after_run: Callable[[DagRunSummary], None] | None = None,
    runs: int = 1,
) -> DagRunSummary:
    """On a running Airflow (``api``, a dataops.local.api.AirflowApi): trigger
    ``dag_id`` ``runs`` times one after the other, each after the last ended;
    a run that does not succeed stops with dbt's error for each failed model."""
    from dataops.local.run_failure import describe as describe_failure
    from dataops.local.run_failure import read_failed_run

    for _ in range(runs):
        run_id = api.trigger(dag_id)
        info = api.wait_for_run(dag_id, run_id, timeout_s=timeout_s)
        tasks = {t.task_id: t.state for t in api.tasks(dag_id, run_id).values()}
        if info.state != "success":
            failed = read_failed_run(api, dag_id, run_id, info.state, tasks)
            raise DataOpsError(describe_failure(failed, logs_dir))
        summary = DagRunSummary(run_id, info.duration_s or 0.0, tasks)
        if after_run:
            after_run(summary)
    return summary


def top_rows(settings: Settings, limit: int = 5) -> dict[str, tuple[list[str], list[tuple]]]:
    """The first rows of each model, read from the target's warehouse."""
    warehouse = settings.warehouse()
    out = {}
    for model, order in MODELS.items():
        relation = f'"{settings.models_schema}"."{model}"'
        out[model] = warehouse.query(settings, f"select * from {relation} order by {order} limit {int(limit)}")
    return out


def describe_warehouse(settings: Settings) -> str:
    """Where the demo's models are, in the words of the target."""
    return settings.warehouse().where(settings)
