"""The main job, end to end on the embedded default: sample data into DuckDB,
the TICKIT transformations run by Airflow, the results shown."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from dataops.config import Settings
from dataops.dbt import DbtInvocation, DbtProject, DbtRunner
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
    """Parse the dbt project once, so every run starts from a warm parse."""
    run = DbtRunner(DbtProject.from_settings(settings)).invoke(DbtInvocation(command="parse"))
    run.raise_for_status()


def run_dag(settings: Settings, dag_id: str = DEMO_DAG) -> None:
    home = AirflowHome.for_settings(settings)
    home.migrate()
    result = home.airflow("dags", "test", dag_id, check=False, capture=True)
    # `airflow dags test` exits non-zero when the run fails.
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-25:]
        raise DataOpsError(
            f"the DAG {dag_id} did not succeed. Last lines of its output:\n" + "\n".join(tail)
        )


def top_rows(settings: Settings, limit: int = 5) -> dict[str, tuple[list[str], list[tuple]]]:
    """The first rows of each model, read from the DuckDB warehouse."""
    import duckdb

    out = {}
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        for model, order in MODELS.items():
            relation = f'"{settings.models_schema}"."{model}"'
            cursor = con.execute(f"select * from {relation} order by {order} limit {int(limit)}")
            out[model] = ([d[0] for d in cursor.description], cursor.fetchall())
    return out
