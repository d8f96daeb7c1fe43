"""``redshift_transformations`` end to end: a local Airflow, a real dbt run,
checked through Airflow's REST API (what the UI shows) and the warehouse."""

from __future__ import annotations

import pytest

from dataops.airflow.naming import PRODUCER_TASK_ID, task_ids_for
from e2e_support import DAG_ID, E2EStack

pytestmark = pytest.mark.slow

SUMMARY_TASK_ID = "dbt_done"
BROKEN_MODEL = "models/marts/percentile_sales_model.sql"
BROKEN_UID = "model.tickit.percentile_sales_model"
ITS_DOWNSTREAM_UID = "model.tickit.top_sales_99.9_percentile_model"
UNRELATED_UID = "model.tickit.top_buyer_data_model"


def test_a_run_shows_one_task_per_model_with_its_own_state_and_duration(e2e_stack: E2EStack):
    graph = e2e_stack.graph()
    task_ids = task_ids_for(graph.nodes.values())

    info, tasks = e2e_stack.run()

    assert info.state == "success", _states(tasks)
    assert set(tasks) == set(task_ids.values()) | {PRODUCER_TASK_ID, SUMMARY_TASK_ID}
    dbt_times = {}
    for uid, node in graph.nodes.items():
        task = tasks[task_ids[uid]]
        assert task.state == "success", f"{uid}: {task.state}"
        assert task.duration and task.duration > 0, f"{uid} has no duration"
        outcome = e2e_stack.api.xcom(DAG_ID, info.run_id, task.task_id, "dbt_outcome")
        assert outcome["state"] == "success", outcome
        assert outcome["started_at"] and outcome["finished_at"], outcome
        dbt_times[uid] = outcome["execution_time"]
        if node.resource_type == "model":
            assert outcome["execution_time"] > 0, outcome
            (rows,) = e2e_stack.query(f"select count(*) from {e2e_stack.relation(node.name)}")[0]
            assert rows > 0, f"{node.name} is empty on {e2e_stack.target}"
    assert len(set(dbt_times.values())) > 1, "every model reports the same dbt time"

    # The task's log ends (before Airflow's own closing lines) with dbt's timing of the model.
    model_task = task_ids[BROKEN_UID]
    log = e2e_stack.api.log(DAG_ID, info.run_id, model_task, tasks[model_task].try_number)
    ours = [line for line in log.splitlines() if line.startswith("dbt")]
    assert ours and "execution time" in ours[-1], log[-2000:]


@pytest.mark.parametrize("e2e_stack", ["duckdb"], indirect=True)
def test_a_broken_model_fails_its_branch_only_and_clearing_it_rebuilds_only_that_branch(e2e_stack: E2EStack):
    s = e2e_stack
    graph = s.graph()
    task_ids = task_ids_for(graph.nodes.values())
    broken_task, downstream_task = task_ids[BROKEN_UID], task_ids[ITS_DOWNSTREAM_UID]
    good_sql = (s.project_dir / BROKEN_MODEL).read_text()

    s.edit_model(BROKEN_MODEL, "select no_such_column from {{ ref('all_gross_sales_model') }}\n")
    try:
        info, tasks = s.run()
    finally:
        s.edit_model(BROKEN_MODEL, good_sql)

    assert info.state == "failed"
    assert tasks[broken_task].state == "failed"
    assert tasks[downstream_task].state in {"skipped", "upstream_failed"}
    assert tasks[SUMMARY_TASK_ID].state == "failed"
    others = set(task_ids.values()) - {broken_task, downstream_task}
    assert {t: tasks[t].state for t in others} == dict.fromkeys(others, "success")
    log = s.api.log(DAG_ID, info.run_id, broken_task, tasks[broken_task].try_number)
    assert "no_such_column" in log, log[-2000:]

    # Evidence in the warehouse: a rebuilt model exists again, an untouched one stays gone.
    for uid in (BROKEN_UID, ITS_DOWNSTREAM_UID, UNRELATED_UID):
        s.execute(f"drop table if exists {s.relation(graph.nodes[uid].name)}")
    before = set(s.run_results(info.run_id))

    cleared, rerun = s.rerun_cleared(info.run_id, [broken_task])

    assert set(cleared) == {broken_task, downstream_task, SUMMARY_TASK_ID}
    assert rerun.state == "success", _states(s.api.tasks(DAG_ID, info.run_id))
    retry_results = {k: v for k, v in s.run_results(info.run_id).items() if k not in before}
    built = {
        r["unique_id"]
        for results in retry_results.values()
        for r in results["results"]
        if r["unique_id"].startswith("model.")
    }
    assert built == {BROKEN_UID, ITS_DOWNSTREAM_UID}, retry_results.keys()
    assert all(r["status"] in {"success", "pass"} for v in retry_results.values() for r in v["results"])
    for uid in (BROKEN_UID, ITS_DOWNSTREAM_UID):
        (rows,) = s.query(f"select count(*) from {s.relation(graph.nodes[uid].name)}")[0]
        assert rows > 0
    unrelated = graph.nodes[UNRELATED_UID].name
    assert not s.query(
        f"select 1 from information_schema.tables where table_schema = '{s.settings.models_schema}' "
        f"and table_name = '{unrelated}'"
    ), f"{unrelated} was rebuilt by the retry"


def _states(tasks) -> dict[str, str | None]:
    return {t.task_id: t.state for t in tasks.values()}
