"""The services stack on the real servers: a run end to end, bad inputs, load,
the UI, and stopping.

The tests share a stack of this file's own (see conftest.py; what the stack
survives is in test_stack_faults.py, on another) and run in this file's
order: the end-to-end run records the warehouse's relations that later tests
compare against; the last test stops the stack.

Task instances are read generically from the REST API: every task of a run
must succeed, and where the DAG has one task per dbt model, those tasks are
checked by name too.
"""

from __future__ import annotations

import os
import re
import textwrap
import threading
import time
import urllib.request
from datetime import timezone
from pathlib import Path

import psycopg
import pytest

from dataops.local.api import AirflowApi
from dataops.local.run_failure import describe as describe_failed_run
from dataops.local.run_failure import read_failed_run
from stack_runs import (
    DAG, MODELS_SCHEMA, TICKIT_SCHEMA, assert_run_succeeded, edited, model_task_ids, project_changed, require_baseline,
    run_dag, task_state, wait_for,
)
from stack_support import Stack, run_dataops
from warehouse_reader import snapshot

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.timeout(900)]



def test_dags_are_served_ready_to_trigger_and_start_no_run_by_themselves(stack: Stack, airflow: AirflowApi):
    """A new user triggers a run at once, without unpausing first (the next
    test's run proves it: nothing here unpauses), and no scheduled run appears
    that nobody asked for; `up` said as much."""
    assert "scheduled runs off" in stack.up_output, stack.up_output
    assert re.search(rf"{DAG}\s+ready to trigger", stack.up_output), stack.up_output
    for dag_id in (DAG, "example_dag"):
        assert not airflow.dags.get_dag(dag_id).is_paused, f"{dag_id} is paused as served"
    time.sleep(5)  # a few more scheduler loops: an unpaused @daily DAG would have had its run created by now
    assert airflow.runs(DAG) == [], [r.run_id for r in airflow.runs(DAG)]


def test_end_to_end_run_builds_every_model(stack: Stack, airflow: AirflowApi):
    models = model_task_ids(stack.project_dir)
    run_id, state = run_dag(airflow)
    assert_run_succeeded(airflow, run_id, state, list(models.values()))
    relations = snapshot(stack.pg_conninfo, MODELS_SCHEMA)
    for model in models:
        assert model in relations, f"model {model} is not in {MODELS_SCHEMA}; found {sorted(relations)}"
        assert relations[model].rows > 0, f"{MODELS_SCHEMA}.{model} is empty"
    stack.baseline.update(relations)
    # Published in one step after the tests: production reads exactly what the run built in its place.
    place = snapshot(stack.pg_conninfo, _place(stack, run_id))
    assert {m: place[m].checksum for m in models} == {m: relations[m].checksum for m in models}
    _each_model_task_has_dbts_outcome_and_time(stack, run_id)
    print(f"run {run_id}: tasks {sorted(airflow.tasks(DAG, run_id))}")


def _place(stack: Stack, run_id: str) -> str:
    """The schema the run built in (test-gated publish: dataops.wap)."""
    with psycopg.connect(stack.pg_conninfo, autocommit=True) as conn:
        (schema,) = conn.execute("select schema_name from dataops_wap.places where run_id = %s", [run_id]).fetchone()
    return schema


def _each_model_task_has_dbts_outcome_and_time(stack: Stack, run_id: str) -> None:
    """Each model's task carries its own dbt outcome (the dbt_outcome XCom), an
    Airflow duration, and dbt's own time as the last dbt line of its log."""
    from dataops.airflow.naming import task_ids_for
    from dataops.dbt.graph import DbtGraph
    from dataops.dbt.manifest import default_graph_path
    from dataops.local.api import AirflowApi

    api = AirflowApi(stack.url, "admin", stack.password)
    graph = DbtGraph.read(default_graph_path(stack.project_dir))
    tasks = api.tasks(DAG, run_id)
    dbt_times, model_tries = {}, {}
    for uid, task_id in task_ids_for(graph.nodes.values()).items():
        task = tasks[task_id]
        assert task.state == "success" and task.duration and task.duration > 0, (uid, task)
        outcome = api.xcom(DAG, run_id, task_id, "dbt_outcome")
        assert outcome["state"] == "success" and outcome["started_at"] and outcome["finished_at"], outcome
        dbt_times[uid] = outcome["execution_time"]
        if graph.nodes[uid].resource_type == "model":
            assert outcome["execution_time"] > 0, outcome
            model_tries[task_id] = task.try_number
    assert len(set(dbt_times.values())) > 1, "every model reports the same dbt time"

    # The triggerer writes a trigger's log on its own time (see tests/trigger_logs.py).
    from trigger_logs import dbt_lines_with_time

    timed = dbt_lines_with_time(lambda t: api.log(DAG, run_id, t, model_tries[t]), model_tries)
    misplaced = {task_id: ours[-1] for task_id, ours in timed.items() if "execution time" not in ours[-1]}
    assert not misplaced, f"dbt's time is not the last dbt line of these logs: {misplaced}"
    # Airflow 3.3's triggerer can drop a trigger's last log records when it reads its
    # log channel late (apache/airflow#66158); the dbt_outcome XCom keeps dbt's time
    # regardless. One log at least must have it: a change that stops logging it fails.
    assert timed, f"no model task's log has dbt's time: {sorted(model_tries)}"


# --- Bad inputs: a clear error naming the culprit, the warehouse untouched ----


def _assert_unchanged(stack: Stack, names: list[str], before: dict, schema: str = MODELS_SCHEMA) -> None:
    after = snapshot(stack.pg_conninfo, schema)
    for name in names:
        assert after.get(name) == before[name], f"{schema}.{name} changed: {before[name]} -> {after.get(name)}"


def _failed_run(stack: Stack, airflow: AirflowApi) -> tuple[str, str]:
    run_id, state = run_dag(airflow)
    assert state == "failed", f"run {run_id} should have failed, ended {state}"
    return run_id, airflow.run_logs(DAG, run_id)


def test_broken_model_sql_names_the_model(stack: Stack, airflow: AirflowApi):
    require_baseline(stack)
    model = stack.project_dir / "models" / "marts" / "top_buyers_by_quantity_model.sql"
    before = snapshot(stack.pg_conninfo, MODELS_SCHEMA)
    with project_changed(stack, airflow, model, "select buyerid,, from {{ source('tickit', 'sales') }} group by\n"):
        run_id, logs = _failed_run(stack, airflow)
    assert "top_buyers_by_quantity_model" in logs and "syntax error" in logs, logs[-3000:]
    _verdict_follows_dbt_promptly(stack, airflow, run_id)
    # What `dataops demo` prints for a failed run: dbt's own error for the model, read from the run's XComs.
    message = describe_failed_run(
        read_failed_run(airflow, DAG, run_id, "failed",
                        {t: s.state for t, s in airflow.tasks(DAG, run_id).items()}),
        stack.logs_dir,
    )
    assert "  model top_buyers_by_quantity_model:" in message and "syntax error" in message, message
    # The broken model and what depends on it keep their last good build; nothing else changes content.
    _assert_unchanged(stack, ["top_buyers_by_quantity_model", "top_buyer_data_model"], before)
    after = snapshot(stack.pg_conninfo, MODELS_SCHEMA)
    assert {n: (r.rows, r.checksum) for n, r in after.items()} == {n: (r.rows, r.checksum) for n, r in before.items()}


VERDICT_WITHIN_S = 10.0


def _verdict_follows_dbt_promptly(stack: Stack, airflow: AirflowApi, run_id: str) -> None:
    """The run ends failed within VERDICT_WITHIN_S of dbt's last node: dbt_done
    does not retry (a retry could only repeat the verdict, holding the DAG's
    one active-run slot meanwhile)."""
    from datetime import datetime

    from dataops.airflow.naming import PRODUCER_TASK_ID, SUMMARY_TASK_ID
    from dataops.airflow.run_report import RESULTS_KEY

    report = airflow.xcom(DAG, run_id, PRODUCER_TASK_ID, RESULTS_KEY)
    finished = [datetime.fromisoformat(str(o["finished_at"]).replace("Z", "+00:00"))
                for o in (report or {}).get("nodes", {}).values() if o.get("finished_at")]
    assert finished, f"dbt_build's report has no node with a finish time: {report}"
    last_node = max(f if f.tzinfo else f.replace(tzinfo=timezone.utc) for f in finished)
    ended = airflow.run(DAG, run_id).end_date
    lag = (ended - last_node).total_seconds()
    print(f"run {run_id} ended failed {lag:.1f}s after dbt's last node")
    assert lag <= VERDICT_WITHIN_S, f"the run ended {lag:.1f}s after dbt's last node (at most {VERDICT_WITHIN_S:.0f}s)"
    assert task_state(airflow, run_id, SUMMARY_TASK_ID).try_number <= 1, "dbt_done was retried"


def test_missing_source_table_names_the_table(stack: Stack, airflow: AirflowApi):
    require_baseline(stack)
    before = snapshot(stack.pg_conninfo, MODELS_SCHEMA)
    with psycopg.connect(stack.pg_conninfo, autocommit=True) as conn:
        conn.execute("alter table tickit.users rename to users__hidden_by_test")
        try:
            run_id, logs = _failed_run(stack, airflow)
        finally:
            conn.execute("alter table tickit.users__hidden_by_test rename to users")
    assert re.search(r'relation "tickit\.users" does not exist', logs), logs[-3000:]
    _assert_unchanged(stack, ["top_buyer_data_model"], before)
    after = snapshot(stack.pg_conninfo, MODELS_SCHEMA)
    assert {n: (r.rows, r.checksum) for n, r in after.items()} == {n: (r.rows, r.checksum) for n, r in before.items()}


def test_wrong_warehouse_credentials_name_the_user(stack: Stack, airflow: AirflowApi):
    """The server trusts loopback connections (no password is checked), so the
    wrong credentials are a user that does not exist with a wrong password."""
    require_baseline(stack)
    before = snapshot(stack.pg_conninfo, MODELS_SCHEMA)
    profiles = stack.project_dir / "profiles.yml"
    wrong_user = f"dataops_wrong_{stack.uid}"
    text = profiles.read_text()
    broken = text.replace("user: \"{{ env_var('DATAOPS_PG_USER', 'postgres') }}\"", f'user: "{wrong_user}"').replace(
        "password: \"{{ env_var('DATAOPS_PG_PASSWORD', '') }}\"", 'password: "not-the-password"', 1
    )
    assert broken != text, "profiles.yml no longer has the expected postgres user line"
    with edited(profiles, broken):
        run_id, logs = _failed_run(stack, airflow)
    assert wrong_user in logs, logs[-3000:]
    _assert_unchanged(stack, list(before), before)


def test_dag_file_with_syntax_error_is_reported_and_others_run(stack: Stack, airflow: AirflowApi):
    broken = stack.extra_dags / "broken_dag.py"
    good = stack.extra_dags / "scratch_ok.py"
    good.write_text(textwrap.dedent("""\
        from datetime import datetime
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.bash import BashOperator

        with DAG(dag_id="scratch_ok", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):
            BashOperator(task_id="hello", bash_command="echo hello")
        """))
    broken.write_text("from airflow.sdk import DAG\n\nwith DAG(dag_id='broken' as dag:\n    pass\n")

    def broken_reported():
        for error in airflow.import_errors.get_import_errors(limit=100).import_errors:
            if error.filename.endswith("broken_dag.py"):
                return error
        return None

    error = wait_for(broken_reported, 120, "the import error of broken_dag.py", interval_s=2)
    assert "SyntaxError" in error.stack_trace and "line 3" in error.stack_trace, error.stack_trace
    airflow.wait_for_dag("scratch_ok", timeout_s=120, unpause=False)
    # A DAG file added while the stack runs is served unpaused too.
    run_id = airflow.trigger("scratch_ok")
    assert airflow.wait_for_run("scratch_ok", run_id, 180).state == "success"
    # The DAGs of the other folder are untouched by the broken file.
    other_errors = [e.filename for e in airflow.import_errors.get_import_errors(limit=100).import_errors
                    if not e.filename.endswith("broken_dag.py")]
    assert not other_errors, other_errors
    assert not airflow.dags.get_dag(DAG).has_import_errors


def test_corrupt_tickit_file_names_file_and_line(stack: Stack, tmp_path):
    require_baseline(stack)
    from dataops.tickit.schema import TABLES

    source = stack.settings().data_dir
    data = tmp_path / "tickit"
    data.mkdir()
    for path in source.iterdir():
        if path.is_file():
            (data / path.name).write_bytes(path.read_bytes())
    sales = next(t for t in TABLES if t.name == "sales")
    lines = (data / sales.file_name).read_text().splitlines(keepends=True)
    lines[2] = "not|a|sales|row\n"
    (data / sales.file_name).write_text("".join(lines))
    tickit_before = snapshot(stack.pg_conninfo, TICKIT_SCHEMA)
    models_before = snapshot(stack.pg_conninfo, MODELS_SCHEMA)
    env = {**stack.env, "DATAOPS_PG_DATABASE": stack.warehouse_db}
    result = run_dataops("data", "load", "--target", "postgres", "--data-dir", str(data), env=env, timeout_s=300)
    assert result.returncode == 1, result.stdout + result.stderr
    message = result.stderr
    assert f"{sales.file_name}:3" in message, message
    assert snapshot(stack.pg_conninfo, TICKIT_SCHEMA) == tickit_before
    assert snapshot(stack.pg_conninfo, MODELS_SCHEMA) == models_before


def test_failing_data_test_stops_what_depends_on_the_model(stack: Stack, airflow: AirflowApi):
    require_baseline(stack)
    test_file = stack.project_dir / "tests" / "fails_on_purpose.sql"
    before = snapshot(stack.pg_conninfo, MODELS_SCHEMA)
    with project_changed(stack, airflow, test_file, "-- every row fails\nselect * from {{ ref('all_gross_sales_model') }}\n"):
        run_id, logs = _failed_run(stack, airflow)
    assert "fails_on_purpose" in logs, logs[-3000:]
    # Test-gated publish: production is exactly as before, every model (nothing was published).
    assert snapshot(stack.pg_conninfo, MODELS_SCHEMA) == before
    # In the run's own place, the unrelated branch was built, and what depends on the tested model was not.
    place = snapshot(stack.pg_conninfo, _place(stack, run_id))
    assert "top_buyers_by_quantity_model" in place and "all_gross_sales_model" in place
    assert not {"percentile_sales_model", "top_sales_99.9_percentile_model"} & set(place), sorted(place)
    tasks = airflow.tasks(DAG, run_id)
    task_ids = model_task_ids(stack.project_dir)
    for downstream in ("percentile_sales_model", "top_sales_99.9_percentile_model"):
        task = tasks.get(task_ids[downstream])
        if task is not None:
            assert task.state != "success", f"{downstream}'s task succeeded though its upstream's test failed"


# --- Load ----------------------------------------------------------------------


class HealthProbe(threading.Thread):
    """Times the API's health check every half second."""

    def __init__(self, url: str):
        super().__init__(name="health-probe", daemon=True)
        self.url = f"{url}/api/v2/monitor/health"
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=10) as response:
                    response.read()
                self.latencies.append(time.perf_counter() - started)
            except OSError as exc:
                self.failures.append(str(exc))


QUEUED_RUNS = 2


def test_queued_runs_all_succeed_without_duplicates(stack: Stack, airflow: AirflowApi):
    """Runs triggered faster than they finish queue (one build at a time), all
    succeed, and leave each model exactly as one run would: no duplicated
    rows. The API answers its health check all along. Two runs show the
    queue (the second waits for the first) as well as twenty did, in a small
    part of the time."""
    require_baseline(stack)
    models = model_task_ids(stack.project_dir)
    probe = HealthProbe(stack.url)
    probe.start()
    try:
        run_ids = [airflow.trigger(DAG) for _ in range(QUEUED_RUNS)]
        states = {run_id: airflow.wait_for_run(DAG, run_id, 1800).state for run_id in run_ids}
    finally:
        probe.stop.set()
        probe.join(15)
    assert all(s == "success" for s in states.values()), states
    for run_id in run_ids:
        assert_run_succeeded(airflow, run_id, states[run_id], list(models.values()))
    after = snapshot(stack.pg_conninfo, MODELS_SCHEMA)
    for model in models:
        b, a = stack.baseline[model], after[model]
        assert (a.rows, a.distinct_rows) == (b.rows, b.distinct_rows), f"{model}: {b} -> {a}"
    latencies = sorted(probe.latencies)
    assert latencies, "the health probe got no answer at all"
    print(f"health checks: {len(latencies)}, max {latencies[-1]:.3f}s, p95 {latencies[int(len(latencies) * 0.95)]:.3f}s")
    assert not probe.failures, probe.failures[:5]


# --- The UI in a real browser ----------------------------------------------------


def test_browser_sees_the_latest_run_successful(stack: Stack, airflow: AirflowApi):
    from browser import CHROMIUM_ARGS, ensure_chromium
    from playwright.sync_api import sync_playwright

    chromium = ensure_chromium()
    runs = sorted(airflow.runs(DAG), key=lambda r: r.run_after)
    if not runs or runs[-1].state != "success":
        run_id, state = run_dag(airflow)
        assert state == "success"
    else:
        run_id = runs[-1].run_id
    tasks = sorted(airflow.tasks(DAG, run_id))
    from dataops import paths

    artifacts = Path(os.environ.get("DATAOPS_TEST_ARTIFACTS") or paths.repo_root() / ".dataops" / "test-artifacts")
    artifacts.mkdir(parents=True, exist_ok=True)
    screenshot = artifacts / f"{DAG}-latest-run.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(f"{stack.url}/")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", stack.password)
            page.keyboard.press("Enter")
            page.wait_for_url(re.compile(r"^(?!.*/auth/login).*$"))
            page.goto(f"{stack.url}/dags/{DAG}/runs/{run_id}")
            page.wait_for_load_state("networkidle")
            page.get_by_text(run_id).first.wait_for()
            page.get_by_text(re.compile(r"^success$", re.I)).first.wait_for()
            for task_id in tasks[:3]:
                page.get_by_text(task_id).first.wait_for()
            page.screenshot(path=str(screenshot), full_page=True)
            # The platform's plugin on this stack: the run's dbt timeline tab, and its dbt docs tab.
            page.goto(f"{stack.url}/dags/{DAG}/runs/{run_id}/plugin/dbt-timeline")
            frame = page.wait_for_selector("iframe").content_frame()
            frame.wait_for_selector("svg#timeline")
            models = frame.locator("rect.bar[data-unique-id^='model.']")
            assert models.count() >= 5 and frame.locator("rect.bar[data-outcome='success']").count() == \
                frame.locator("rect.bar").count()
            page.screenshot(path=str(artifacts / f"{DAG}-services-dbt-timeline.png"), full_page=True)
            page.goto(f"{stack.url}/dags/{DAG}/runs/{run_id}/plugin/dbt-docs-run")
            frame = page.wait_for_selector("iframe").content_frame()
            frame.wait_for_function("() => document.body && document.body.innerText.includes('documentation for your dbt project')")
        finally:
            browser.close()
    assert screenshot.stat().st_size > 10_000
    print(f"\nscreenshot of {DAG} run {run_id}: {screenshot}")


# --- Stopping ------------------------------------------------------------------


def test_down_stops_every_process_it_started(stack: Stack):
    from dataops.local.services.environment import STACK_ID_VARIABLE
    from dataops.local.services.state import pids_with_marker

    state = stack.state()
    assert state is not None and state.phase == "ready"
    status = run_dataops("status", env=stack.env)
    assert status.returncode == 0 and "scheduler" in status.stdout, status.stdout + status.stderr
    bindings = _binding_keys(stack)
    assert bindings, "the stack's workers made no kombu binding keys: nothing for down to prove"
    result = run_dataops("down", env=stack.env, timeout_s=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not _binding_keys(stack), f"down left the stack's binding keys in Redis: {_binding_keys(stack)}"
    assert not pids_with_marker(STACK_ID_VARIABLE, state.stack_id)
    assert not any(r.alive() for r in state.components.values())
    assert not state.supervisor.alive()
    assert run_dataops("status", env=stack.env).returncode == 3


def _binding_keys(stack: Stack) -> list[bytes]:
    import redis

    from dataops.local.services.broker_keys import glob_escape
    from dataops.local.services.config import ServicesConfig

    config = ServicesConfig.load(stack.folder)
    client = redis.Redis.from_url(config.redis.url)
    try:
        return sorted(client.scan_iter(match=glob_escape(stack.redis_prefix) + "_kombu.binding*", count=1000))
    finally:
        client.close()
