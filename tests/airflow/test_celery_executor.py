"""The CeleryExecutor keeps a task queued through a broker outage (within its
window) instead of failing it at the first refused send, and names the broker
when it gives up. Celery's own send is replaced by a fake: no broker needed
(the real outage is tests/services/test_stack.py's)."""

from __future__ import annotations

import pytest

BROKER = "redis://user:secret@127.0.0.1:6390/0"


@pytest.fixture
def executor(monkeypatch):
    monkeypatch.setenv("AIRFLOW__CELERY__BROKER_URL", BROKER)
    monkeypatch.setenv("AIRFLOW__CELERY__BROKER_OUTAGE_S", "20")
    from dataops.airflow import celery_executor

    clock = {"now": 1000.0}
    monkeypatch.setattr(celery_executor.time, "monotonic", lambda: clock["now"])
    made = celery_executor.BrokerPatientCeleryExecutor()
    made.clock = clock
    made.sends = []
    made.outcome = None

    def fake_send(self, workloads):
        from airflow.providers.celery.executors.celery_executor_utils import ExceptionWithTraceback

        results = []
        for key, args, _queue, _team in workloads:
            self.sends.append(key)
            failure = self.outcome
            results.append((key, args, ExceptionWithTraceback(failure, "tb") if failure else _FakeResult(key)))
        return results

    monkeypatch.setattr(celery_executor.CeleryExecutor, "_send_workloads_to_celery", fake_send)
    # Writing the model tasks' report needs a metadata database; tested on the services stack.
    monkeypatch.setattr(celery_executor, "_report_to_model_tasks", lambda key, message: None)
    return made


class _FakeResult:
    def __init__(self, key):
        self.task_id = f"celery-{key.task_id}"
        self.backend = None


def _key(task_id="dbt_build"):
    from airflow.models.taskinstancekey import TaskInstanceKey

    return TaskInstanceKey("dag", task_id, "run", 1, -1)


def _send(executor, key):
    executor.queued_tasks[key] = object()
    executor._send_workloads([(key, object(), "default", None)])


def _refused():
    import kombu.exceptions

    return kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")


def test_a_refused_send_keeps_the_task_queued_and_retries_every_few_seconds(executor):
    key = _key()
    executor.outcome = _refused()
    _send(executor, key)
    assert key in executor.queued_tasks and key not in executor.event_buffer
    for _ in range(10):  # scheduler loops a tenth of a second apart: not yet time to try again
        executor.clock["now"] += 0.1
        executor._send_workloads([(key, object(), "default", None)])
    assert executor.sends == [key] and key in executor.queued_tasks and key not in executor.event_buffer
    executor.clock["now"] += 1.0
    executor.outcome = None  # the broker is back
    executor._send_workloads([(key, object(), "default", None)])
    assert executor.sends == [key, key]
    assert key not in executor.queued_tasks and key in executor.running
    assert executor.event_buffer[key][0] == "queued"


def test_past_the_window_the_task_fails_naming_the_broker(executor):
    key = _key()
    executor.outcome = _refused()
    _send(executor, key)
    for _ in range(12):  # 24 s of a 20 s window
        executor.clock["now"] += 2.0
        executor._send_workloads([(key, object(), "default", None)])
    state, message = executor.event_buffer[key]
    assert state == "failed"
    assert "the Celery broker at redis://127.0.0.1:6390 was unreachable for 2" in message, message
    assert "secret" not in message and "Connection refused" in message, message
    assert key not in executor.queued_tasks


def test_any_other_send_error_fails_at_once(executor):
    key = _key("some_task")
    executor.outcome = TypeError("cannot serialize the workload")
    _send(executor, key)
    assert executor.event_buffer[key] == ("failed", None)
    assert key not in executor.queued_tasks


def test_a_broker_cause_is_found_behind_a_wrapping_error():
    import redis.exceptions

    from dataops.airflow.celery_executor import broker_address, is_broker_problem

    try:
        try:
            raise redis.exceptions.ConnectionError("Connection refused")
        except redis.exceptions.ConnectionError as exc:
            raise RuntimeError("publish failed") from exc
    except RuntimeError as wrapped:
        assert is_broker_problem(wrapped)
    assert not is_broker_problem(ValueError("bad"))
    assert broker_address("redis://:pw@host:6380/2") == "redis://host:6380"
