"""`dataops status`'s verdict from the supervisor's state, the broker and
Airflow's health (no servers: the broker is a closed port; the real stack's
status during a broker outage is tests/services/test_stack.py's)."""

from __future__ import annotations

import os

from dataops.local.services.config import ServicesConfig
from dataops.local.services.state import READY, ProcessRecord, StackState
from dataops.local.services.status import stack_status
from stack_support import free_port

HEALTHY = {name: {"status": "healthy"} for name in ("metadatabase", "scheduler", "triggerer", "dag_processor")}


def _state(**down: int) -> StackState:
    me = ProcessRecord.of(os.getpid())
    components = {name: me for name in ("api-server", "scheduler", "dag-processor", "triggerer", "worker-1")}
    for name, last_exit in down.items():
        components[name.replace("_", "-")] = ProcessRecord(0, None, restarts=1, last_exit=last_exit)
    return StackState(supervisor=me, phase=READY, url="http://127.0.0.1:1", stack_id="", components=components)


def _config(tmp_path, redis_url: str) -> ServicesConfig:
    return ServicesConfig(folder=tmp_path, redis=redis_url)


def test_a_broker_that_does_not_answer_is_named_and_the_workers_wait(tmp_path):
    url = f"redis://127.0.0.1:{free_port()}/0"
    report = stack_status(_config(tmp_path, url), _state(), HEALTHY)
    assert not report.ok
    text = "\n".join(report.lines())
    assert "DEGRADED" in text and "ready:" not in text
    assert report.problems[0].startswith(f"the Celery broker (Redis at 127.0.0.1:{url.split(':')[2].split('/')[0]}) is unreachable"), report.problems
    assert "worker-1 is unhealthy (waiting for the broker)" in report.problems


def test_a_dead_component_is_down_even_while_airflow_still_calls_it_healthy(tmp_path, monkeypatch):
    from dataops.local.services import status

    monkeypatch.setattr(status, "broker_problem", lambda url: None)
    report = stack_status(_config(tmp_path, "redis://127.0.0.1:6379/0"), _state(triggerer=-9), HEALTHY)
    assert report.problems == ["triggerer is down (restarting after exit code -9)"]
    assert "pid 0" not in "\n".join(report.lines())


def test_a_running_component_without_heartbeats_and_a_silent_api_are_unhealthy(tmp_path, monkeypatch):
    from dataops.local.services import status

    monkeypatch.setattr(status, "broker_problem", lambda url: None)
    config = _config(tmp_path, "redis://127.0.0.1:6379/0")
    stale = {**HEALTHY, "scheduler": {"status": "unhealthy", "latest_scheduler_heartbeat": "2026-01-01T00:00:00"}}
    assert stack_status(config, _state(), stale).problems == [
        "scheduler is unhealthy (Airflow reports no recent heartbeat (last 2026-01-01T00:00:00))"
    ]
    assert stack_status(config, _state(), None).problems[0].startswith("api-server is unhealthy (no answer from")
    assert stack_status(config, _state(), HEALTHY).ok
