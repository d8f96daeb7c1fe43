"""The DAGs end to end through Airflow (``airflow dags test``) on the embedded
default: DuckDB warehouse, SQLite metadata database."""

from __future__ import annotations

import pytest

from dataops.config import load_settings
from dataops.local import demo
from dataops.local.airflow_home import AirflowHome
from dataops.tickit.loaders import get_loader
from dataops.tickit.generator import generate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedded(tmp_path_factory, compiled_analytics_project):
    state = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATAOPS_STATE_DIR", str(state))
        mp.setenv("DATAOPS_TARGET", "duckdb")
        mp.setenv("DATAOPS_SCALE", "0.02")
        settings = load_settings()
        generate(settings.data_dir, scale=settings.scale, seed=settings.seed)
        get_loader(settings).load(settings.data_dir)
        demo.compile_project(settings)
        yield settings


def test_example_dag_runs(embedded):
    home = AirflowHome.for_settings(embedded)
    home.migrate()
    result = home.airflow("dags", "test", "example_dag", capture=True, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "A weekday run" in output or "A weekend run" in output


def test_redshift_transformations_builds_the_models(embedded):
    counts: list[dict[str, int]] = []

    def check(run: demo.DagRunSummary) -> None:
        model_tasks = {m.replace(".", "_") for m in demo.MODELS}
        assert model_tasks <= set(run.task_states), run.task_states
        assert all(state == "success" for state in run.task_states.values()), run.task_states
        counts.append(_counts(embedded))

    # Two runs: the second replaces the tables rather than adding to them.
    demo.run_dag(embedded, after_run=check, runs=2)
    assert len(counts) == 2 and counts[0] == counts[1]
    assert all(n > 0 for n in counts[0].values()), counts[0]
    rows = demo.top_rows(embedded, limit=3)
    assert set(rows) == set(demo.MODELS)


def _counts(settings) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return {
            m: con.execute(f'select count(*) from "{settings.models_schema}"."{m}"').fetchone()[0]
            for m in demo.MODELS
        }
