"""What the services stack survives: its processes killed mid-run, the broker
down, the warehouse dropping dbt's connection.

The tests share a stack of this file's own (see conftest.py), beside the one
of test_stack.py, and run in this file's order: the first run records the
relations that the worker test's readers compare against.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psycopg
import pytest

from dataops.local.api import AirflowApi
from stack_runs import (
    DAG, MODELS_SCHEMA, RUN_TIMEOUT_S, assert_run_succeeded, component_of, dbt_pids, kill_machine, model_task_ids,
    project_changed, require_baseline, task_state, wait_for,
)
from stack_support import Stack, run_dataops
from warehouse_reader import ReaderWatch, snapshot

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.timeout(900)]


def test_scheduler_and_triggerer_killed_mid_run_are_restarted_and_the_run_succeeds(stack: Stack, airflow: AirflowApi):
    """Both die mid-run, as when their machine went. The model tasks and
    dbt_done wait in the triggerer (as when it crashed on a dropped metadata
    connection, PendingRollbackError): the supervisor starts both again and the
    new triggerer takes over their triggers. The run's relations are what the
    worker test's readers compare against."""
    models = model_task_ids(stack.project_dir)
    stack_id = stack.state().stack_id
    run_id = airflow.trigger(DAG)
    wait_for(lambda: dbt_pids(stack_id), 240, "dbt to start on a worker")
    before = stack.state().components
    kill_machine(before["scheduler"].pid)
    kill_machine(before["triggerer"].pid)
    state = airflow.wait_for_run(DAG, run_id, RUN_TIMEOUT_S).state
    assert_run_succeeded(airflow, run_id, state, list(models.values()))
    after = stack.state().components
    for component in ("scheduler", "triggerer"):
        assert after[component].restarts > before[component].restarts, f"{component} was not restarted"
        assert f"restarting {component}" in (stack.logs_dir / "supervisor.log").read_text()
    relations = snapshot(stack.pg_conninfo, MODELS_SCHEMA)
    empty = [m for m in models if m not in relations or relations[m].rows == 0]
    assert not empty, f"models missing or empty in {MODELS_SCHEMA} after the run: {empty}"
    stack.baseline.update(relations)


def test_worker_killed_while_a_model_runs(stack: Stack, airflow: AirflowApi):
    require_baseline(stack)
    models = model_task_ids(stack.project_dir)
    expected = {m: stack.baseline[m] for m in models}
    stack_id = stack.state().stack_id
    with ReaderWatch(stack.pg_conninfo, MODELS_SCHEMA, expected) as watch:
        run_id = airflow.trigger(DAG)
        dbt_pid = wait_for(lambda: dbt_pids(stack_id), 240, "dbt to start on a worker")[0]
        worker = component_of(stack, dbt_pid)
        restarts_before = stack.state().components[worker].restarts
        time.sleep(1.0)  # let dbt get into the models
        # What the supervisor's restart does: kill the worker's process group, and only that. The
        # task process (in a group of its own, as Airflow starts it) and its dbt are left orphaned.
        os.killpg(os.getpgid(stack.state().components[worker].pid), signal.SIGKILL)
        # The killed try's dbt stops on its own, well before any retry could start another.
        deadline = time.monotonic() + 15
        while Path(f"/proc/{dbt_pid}/cmdline").is_file() and Path(f"/proc/{dbt_pid}/cmdline").read_bytes():
            others = [pid for pid in dbt_pids(stack_id) if pid != dbt_pid]
            assert not others, f"a second dbt {others} started while the killed try's dbt {dbt_pid} still ran"
            assert time.monotonic() < deadline, f"the killed try's dbt {dbt_pid} outlived its worker by 15 s"
            time.sleep(0.2)
        state = airflow.wait_for_run(DAG, run_id, RUN_TIMEOUT_S).state
    assert_run_succeeded(airflow, run_id, state, list(models.values()))
    assert watch.reads > 10, f"the reader only read {watch.reads} times"
    assert not watch.violations, f"readers saw half-built relations: {sorted(set(watch.violations))[:10]}"
    assert stack.state().components[worker].restarts > restarts_before, f"{worker} was not restarted"
    assert "restarting " + worker in (stack.logs_dir / "supervisor.log").read_text()


def test_broker_down_longer_than_retries_allow_the_run_waits_and_succeeds(stack: Stack, airflow: AirflowApi):
    """The mechanism of the broker outage window, at the test stack's 30 s
    (DATAOPS_SERVICES_BROKER_OUTAGE_S; 300 s by default). The broker stops;
    `dataops status` then exits 1 naming it; a run triggered meanwhile cannot
    send dbt_build. With the test stack's retry policy (one retry, 3 s later)
    Airflow's own CeleryExecutor failed such a task for good within about 5 s
    (one refused send per try). Here dbt_build stays queued on its first try
    for OUTAGE_S, well past that, and the run succeeds once the broker is back,
    with no retry spent. (Waiting out the real 5-minute default would prove
    nothing more, and past the window the task fails naming the broker: see
    tests/airflow/test_celery_executor.py.)"""
    from dataops.airflow.naming import PRODUCER_TASK_ID

    outage_s = 15.0
    models = model_task_ids(stack.project_dir)
    broker = stack.broker
    scheduler_log = stack.logs_dir / "scheduler.log"
    log_start = scheduler_log.stat().st_size
    broker.stop()
    try:
        status = run_dataops("status", env=stack.env)
        assert status.returncode == 1, status.stdout + status.stderr
        assert f"the Celery broker (Redis at 127.0.0.1:{broker.port}) is unreachable" in status.stdout, status.stdout
        run_id = airflow.trigger(DAG)

        # Queued: handed to the executor, which tries to send it in the same scheduler loop.
        wait_for(lambda: getattr(task_state(airflow, run_id, PRODUCER_TASK_ID), "state", None) == "queued",
                  120, "the scheduler to queue dbt_build", interval_s=0.5)
        refused_at = time.monotonic()
        time.sleep(outage_s)
        producer = task_state(airflow, run_id, PRODUCER_TASK_ID)
        assert producer.state == "queued" and producer.try_number <= 1, producer
        assert airflow.run(DAG, run_id).state == "running"
    finally:
        broker.start()
    print(f"broker down {time.monotonic() - refused_at:.0f}s after dbt_build's first refused send")
    state = airflow.wait_for_run(DAG, run_id, RUN_TIMEOUT_S).state
    assert_run_succeeded(airflow, run_id, state, list(models.values()))
    assert task_state(airflow, run_id, PRODUCER_TASK_ID).try_number == 1, "a retry was spent on the outage"
    with open(scheduler_log, "rb") as f:
        f.seek(log_start)
        said = f.read().decode(errors="replace")
    assert f"the Celery broker at redis://127.0.0.1:{broker.port} is unreachable" in said and "keeping it queued" in said
    wait_for(lambda: run_dataops("status", env=stack.env).returncode == 0, 60, "status to say ready again", interval_s=2)


def test_a_dropped_warehouse_connection_during_a_model_is_built_again_and_the_run_succeeds(
    stack: Stack, airflow: AirflowApi
):
    """The warehouse ends dbt's session while a model runs (an administrator's pg_terminate_backend,
    a failover): dbt_build builds that model and what it skipped again once, and the run succeeds."""
    require_baseline(stack)
    models = model_task_ids(stack.project_dir)
    model = stack.project_dir / "models" / "marts" / "all_gross_sales_model.sql"
    slow = (
        "select eventid, sum(pricepaid) as total_price\n"
        "from {{ source('tickit', 'sales') }}\n"
        "cross join (select pg_sleep(3)) as pause\n"
        "group by eventid\n"
    )
    with project_changed(stack, airflow, model, slow):
        run_id = airflow.trigger(DAG)
        terminated = wait_for(lambda: terminate_backends(stack, "pg_sleep(3)"), 240, "the slow model to run")
        state = airflow.wait_for_run(DAG, run_id, RUN_TIMEOUT_S).state
        assert_run_succeeded(airflow, run_id, state, list(models.values()))
    tasks = airflow.tasks(DAG, run_id)
    build_log = airflow.log(DAG, run_id, "dbt_build", tasks["dbt_build"].try_number)
    assert terminated and "the warehouse connection dropped under 1 node(s)" in build_log, build_log[-3000:]
    assert tasks["dbt_build"].try_number == 1, "the rebuild happened inside the first try"


def terminate_backends(stack: Stack, query_part: str) -> int:
    """Ends the warehouse sessions running a query containing ``query_part``; how many."""
    with psycopg.connect(stack.pg_conninfo, autocommit=True) as con:
        rows = con.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where datname = current_database() and pid <> pg_backend_pid() and state = 'active' "
            "and query like %s",
            (f"%{query_part}%",),
        ).fetchall()
    return len(rows)
