"""What the tasks of a run say and do when dbt fails: when dbt stops before
any model, every model task says what dbt said; when a model breaks, its task
fails with dbt's error, the models after it are not built, and Airflow's usual
clear (only failed, with downstream) takes that branch (the live run of
it is in test_e2e.py)."""

from __future__ import annotations

import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from dataops.airflow.decisions import NodeView, decide_node
from dataops.airflow.executors.base import JobResult
from dataops.airflow.operators.producer import DbtProducerOperator
from dataops.airflow.run_report import RESULTS_KEY, RunReport, run_epoch
from dataops.dbt.events import failure_reason
from dataops.dbt.project import DbtProject
from dataops.dbt.runner import DbtInvocation, DbtRunner

GRAPH = Path(__file__).parents[1] / "dbt" / "data" / "tickit_graph.json"
CONNECTION_ERROR = (
    "Encountered an error:\nDatabase Error\n  connection to server at \"127.0.0.1\", port 5432 failed: "
    'FATAL:  role "nobody" does not exist\n  '
)


def test_the_reason_is_the_first_lines_of_the_error_that_stopped_dbt():
    reason = failure_reason(["Runtime Error in model x", CONNECTION_ERROR])
    assert reason.splitlines()[:2] == ["Encountered an error:", "Database Error"]
    assert 'role "nobody" does not exist' in reason
    long = failure_reason(["Encountered an error:\n" + "\n".join(f"line {i}" for i in range(30))])
    assert len(long.splitlines()) == 8


def test_without_json_errors_the_reason_is_dbts_plain_output():
    plain = ("Usage: dbt build [OPTIONS]", "Error: Invalid value for '--profiles-dir': Path '/x' does not exist.")
    assert "Invalid value for '--profiles-dir'" in failure_reason([], plain)
    assert failure_reason([], ()) == "dbt printed no error"


def test_the_runner_keeps_the_plain_lines_dbt_printed(tmp_path):
    fake_dbt = tmp_path / "dbt"
    fake_dbt.write_text("#!/bin/sh\necho \"Error: Invalid value for '--profiles-dir'\"\nexit 2\n")
    fake_dbt.chmod(fake_dbt.stat().st_mode | stat.S_IEXEC)
    (tmp_path / "dbt_project.yml").write_text("name: p\n")
    run = DbtRunner(DbtProject(tmp_path, fake_dbt)).invoke(DbtInvocation(target_path=tmp_path / "t"))
    assert run.returncode == 2
    assert run.plain_output == ("Error: Invalid value for '--profiles-dir'",)


class _FakeTI:
    dag_id, run_id, task_id, try_number = "d", "r", "dbt_build", 1

    def __init__(self):
        self.pushed: list[dict] = []

    def xcom_push(self, key, value):
        assert key == RESULTS_KEY
        self.pushed.append(value)

    def get_task_states(self, **_):
        return {}


class _Executor:
    def __init__(self, result=None, error=None):
        self.result, self.error = result, error

    def run(self, job, on_event):
        if self.error:
            raise self.error
        return self.result


def _produce(monkeypatch, executor) -> tuple[RunReport, Exception | None]:
    monkeypatch.setattr("dataops.airflow.executors.base.executor_for", lambda settings: executor)
    producer = DbtProducerOperator(
        task_id="dbt_build",
        nodes={"all_gross_sales_model": ("model.tickit.all_gross_sales_model", "fqn:x")},
        graph_path=str(GRAPH),
    )
    ti = _FakeTI()
    dag_run = SimpleNamespace(start_date=None)
    raised = None
    try:
        producer.execute({"ti": ti, "dag_run": dag_run})
    except Exception as exc:  # noqa: BLE001
        raised = exc
    return RunReport.from_json(ti.pushed[-1]), raised


def _model_task_message(report: RunReport) -> str:
    view = NodeView("model.tickit.all_gross_sales_model", run_epoch(None), "dbt_build")
    decision = decide_node(view, report, {"dbt_build": "failed"})
    assert decision.state == "failed"
    return decision.message


@pytest.mark.usefixtures("_settings_env")
def test_a_model_task_carries_dbts_error_when_dbt_stopped_before_any_model(monkeypatch):
    report, raised = _produce(monkeypatch, _Executor(JobResult(2, None, errors=("Running with dbt", CONNECTION_ERROR))))
    assert raised is not None and report.final
    message = _model_task_message(report)
    assert "could not run (exit code 2)" in message and 'role "nobody" does not exist' in message


@pytest.mark.usefixtures("_settings_env")
def test_a_model_task_carries_the_producers_error_when_dbt_never_started(monkeypatch):
    missing = FileNotFoundError("dbt is not installed at /nowhere/dbt. Run `make setup`")
    report, raised = _produce(monkeypatch, _Executor(error=missing))
    assert raised is missing and report.final
    assert "dbt is not installed at /nowhere/dbt" in _model_task_message(report)


@pytest.mark.usefixtures("_settings_env")
def test_a_slow_report_push_is_logged_and_the_run_goes_on(monkeypatch, capfd):
    # The fake TI, like Airflow's RuntimeTaskInstance, has no .log: the warning must not need one.
    monkeypatch.setattr("dataops.airflow.operators.producer._SLOW_PUSH_S", -1.0)
    report, raised = _produce(monkeypatch, _Executor(JobResult(1, None, errors=(CONNECTION_ERROR,))))
    assert report.final and "could not run" in (report.error or "")
    assert isinstance(raised, Exception) and "could not run" in str(raised)
    out, err = capfd.readouterr()
    assert "publishing dbt results took" in out + err


def test_outcomes_arriving_while_a_report_is_pushed_neither_break_the_push_nor_stop_the_pushes(monkeypatch):
    """Seen on a 200-model run: the push serialized the report's node map while dbt's next
    outcome was added to it ("dictionary changed size during iteration"), and the thread that
    pushes the report died, so the model tasks saw no outcome until dbt ended."""
    import threading
    import time

    from dataops.airflow.operators import producer

    monkeypatch.setattr(producer, "_PUSH_INTERVAL_S", 0.01)
    pushed: list[int] = []
    adding = threading.Event()

    class SlowSerializingTI:
        def xcom_push(self, key, value):
            adding.set()
            for _ in value["nodes"].items():  # what Airflow's serde does, one node at a time
                time.sleep(0.001)
            pushed.append(len(value["nodes"]))

    publisher = producer._ReportPublisher(SlowSerializingTI(), RunReport(EPOCH, 1), SimpleNamespace(
        warning=lambda *a: None, exception=lambda *a: None))
    publisher.start()
    for n in range(300):
        publisher.add(f"model.p.m{n}", {"state": "success"})
        if n == 0:
            adding.wait(5)
        time.sleep(0.002)  # dbt's pace, about
    publisher.finish(0, None)
    publisher.stop()
    assert publisher.thread.is_alive() is False and pushed[-1] == 300
    # Pushed while outcomes kept arriving, not only once at the end.
    assert len(pushed) > 2 and any(0 < count < 300 for count in pushed), pushed


@pytest.fixture
def _settings_env(monkeypatch, tmp_path):
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(tmp_path / "state"))


# --- what the triggers record for a failed model and what follows it --------

EVENTS = GRAPH.parent / "tickit_broken_events.jsonl"
BROKEN_UID = "model.tickit.percentile_sales_model"
FOLLOWS_UID = "model.tickit.top_sales_99.9_percentile_model"
EPOCH = "2026-01-01T00:00:00.000000+00:00"


def _recorded_report() -> RunReport:
    """The producer's report of the recorded run in which percentile_sales_model broke."""
    import json

    from dataops.dbt.events import OutcomeTracker
    from dataops.dbt.graph import DbtGraph

    tracker = OutcomeTracker(DbtGraph.read(GRAPH))
    for line in EVENTS.read_text().splitlines():
        tracker.feed(json.loads(line))
    tracker.finish(None)
    nodes = {uid: outcome.to_json() for uid, outcome in tracker.outcomes.items()}
    return RunReport(run_epoch=EPOCH, try_number=1, final=True, returncode=1, nodes=nodes)


def _node_event(unique_id: str):
    from structlog.testing import capture_logs

    from dataops.airflow.triggers import DbtNodeTrigger

    decision = decide_node(NodeView(unique_id, EPOCH, "dbt_build"), _recorded_report(), {})
    with capture_logs() as logs:
        event = DbtNodeTrigger(unique_id, "dbt_build")._event(decision)
    return event, [(entry["log_level"], entry["event"] % entry.get("positional_args", ())) for entry in logs]


def test_a_failed_models_task_logs_dbts_error_once_as_an_error():
    from airflow.triggers.base import TaskFailedEvent

    event, logged = _node_event(BROKEN_UID)
    assert isinstance(event, TaskFailedEvent)
    binder = [(level, text) for level, text in logged if "Binder Error" in text]
    assert len(binder) == 1 and binder[0][0] == "error", logged
    assert ("error", "dbt reported failures: model percentile_sales_model") in logged
    assert all(level == "info" for level, text in logged if "START" in text)


def test_the_model_after_a_failure_ends_so_that_clear_only_failed_takes_it():
    from airflow.triggers.base import TaskFailedEvent

    event, logged = _node_event(FOLLOWS_UID)
    assert isinstance(event, TaskFailedEvent)
    assert event.xcoms["dbt_outcome"]["state"] == "skipped"
    assert any(level == "warning" and text.startswith("upstream_failed: dbt skipped this node") for level, text in logged)


def _summary_event(monkeypatch, try_number: int):
    from dataops.airflow import triggers

    trigger = triggers.DbtSummaryTrigger(["a", "b"], "dbt_build", [BROKEN_UID, FOLLOWS_UID])
    return _first_event(monkeypatch, trigger, try_number)


def _first_event(monkeypatch, trigger, try_number: int):
    """The first event ``trigger`` yields for a try of the recorded broken run."""
    import asyncio
    from datetime import datetime, timezone

    from dataops.airflow import triggers

    async def report(self):
        return _recorded_report()

    async def states(self):
        return {}

    monkeypatch.setattr(triggers._RunWatcher, "_report", report)
    monkeypatch.setattr(triggers._RunWatcher, "_states", states)
    dag_run = SimpleNamespace(start_date=datetime(2026, 1, 1, tzinfo=timezone.utc))
    trigger.task_instance = SimpleNamespace(
        dag_id="d", run_id="r", task_id="t", task=None, try_number=try_number,
        _ti_context_from_server=SimpleNamespace(dag_run=dag_run),
    )

    async def first_event():
        async for event in trigger.run():
            return event

    return asyncio.run(asyncio.wait_for(first_event(), 10))


def test_dbt_done_ends_its_first_try_in_the_triggerer(monkeypatch):
    from airflow.triggers.base import TaskFailedEvent

    assert isinstance(_summary_event(monkeypatch, try_number=1), TaskFailedEvent)


def test_dbt_done_ends_a_cleared_try_on_a_worker_so_its_dates_are_its_own(monkeypatch):
    from airflow.sdk.exceptions import AirflowException

    from dataops.airflow.operators.node import DbtSummaryOperator

    event = _summary_event(monkeypatch, try_number=2)
    assert event.payload["action"] == "finish" and event.payload["state"] == "failed"
    summary = DbtSummaryOperator(
        task_id="dbt_done", node_task_ids=["a", "b"], node_unique_ids=[BROKEN_UID, FOLLOWS_UID], producer_task_id="dbt_build"
    )
    with pytest.raises(AirflowException, match="2 dbt nodes did not succeed"):
        summary.execute_complete({}, event.payload)
    assert summary.execute_complete({}, {"action": "finish", "state": "success", "message": "all 2 dbt nodes succeeded"}) is None
    assert summary.retries == 0  # a retry would only repeat the verdict, and keep the run waiting for it


def test_a_model_task_of_a_cleared_run_ends_on_a_worker_so_its_dates_are_its_own(monkeypatch):
    """After a whole run is cleared, a model task ended by its trigger would keep
    its earlier try's end date (a negative duration): a later try's outcome is
    recorded on a worker, with dbt's lines and the dbt_outcome XCom."""
    from airflow.sdk.exceptions import AirflowException
    from airflow.triggers.base import TaskFailedEvent

    from dataops.airflow.operators.node import DbtNodeOperator
    from dataops.airflow.triggers import DbtNodeTrigger

    assert isinstance(_first_event(monkeypatch, DbtNodeTrigger(BROKEN_UID, "dbt_build"), 1), TaskFailedEvent)
    event = _first_event(monkeypatch, DbtNodeTrigger(BROKEN_UID, "dbt_build"), 2)
    assert event.payload["action"] == "finish" and event.payload["state"] == "failed"
    pushed = {}
    ti = SimpleNamespace(xcom_push=lambda key, value: pushed.__setitem__(key, value))
    task = DbtNodeOperator(task_id="m", unique_id=BROKEN_UID, selector="m", producer_task_id="dbt_build")
    with pytest.raises(AirflowException, match="percentile_sales_model: failed"):
        task.execute_complete({"ti": ti}, event.payload)
    assert pushed["dbt_outcome"]["state"] == "failed" and "log" not in pushed["dbt_outcome"]
    success = {"action": "finish", "state": "success", "message": "ok", "outcome": None}
    assert task.execute_complete({"ti": ti}, success) is None
