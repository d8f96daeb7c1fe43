"""``redshift_transformations`` end to end: a local Airflow, a real dbt run,
checked through Airflow's REST API (what the UI shows) and the warehouse."""

from __future__ import annotations

import pytest

from dataops.airflow.naming import PRODUCER_TASK_ID, task_ids_for
from e2e_support import DAG_ID, E2EStack

pytestmark = pytest.mark.slow

SUMMARY_TASK_ID = "dbt_done"
BROKEN_UID = "model.tickit.percentile_sales_model"


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


def _states(tasks) -> dict[str, str | None]:
    return {t.task_id: t.state for t in tasks.values()}
