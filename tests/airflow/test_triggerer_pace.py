"""The triggerer's supervisor loads and cleans triggers at most once a second
(dataops.airflow.triggerer_pace): guarded against the pinned Airflow changing, and what it does,
on a stand-in supervisor driven through the real ``run_once``.

The end-to-end stacks' runs (test_e2e.py, the services stack) go through it in the triggerer.
"""

from __future__ import annotations

import pytest

from dataops.airflow import triggerer_pace


def test_the_pinned_airflows_supervisor_is_the_one_the_fix_was_written_for():
    assert triggerer_pace.changed_internals() == []


class _Supervisor:
    """What run_once calls, recorded in order (Airflow's run_once is borrowed below)."""

    def __init__(self):
        self.calls: list[str] = []

    def load_triggers(self):
        self.calls.append("load")

    def clean_unused(self):
        self.calls.append("clean")

    def _service_subprocess(self, _max_wait):
        self.calls.append("wait")

    def handle_events(self):
        self.calls.append("events")

    def handle_failed_triggers(self):
        pass

    def heartbeat(self):
        pass

    def emit_metrics(self):
        pass


@pytest.fixture
def supervisor(monkeypatch):
    from airflow.jobs.triggerer_job_runner import TriggerRunnerSupervisor

    cls = type("Paced", (_Supervisor,), {"run_once": TriggerRunnerSupervisor.run_once})
    triggerer_pace.apply_to(cls)
    clock = [100.0]
    monkeypatch.setattr(triggerer_pace.time, "monotonic", lambda: clock[0])
    sup = cls()
    yield sup, clock
    triggerer_pace._paces.pop(id(sup), None)


def test_passes_within_a_second_handle_events_but_do_not_load_or_clean(supervisor):
    sup, clock = supervisor
    sup.run_once()
    assert sup.calls == ["clean", "load", "wait", "events"]
    for _ in range(5):  # the runner's messages end passes in quick succession
        clock[0] += 0.1
        sup.run_once()
    assert sup.calls.count("load") == 1 and sup.calls.count("clean") == 1 and sup.calls.count("events") == 6


def test_a_second_on_the_triggers_are_cleaned_then_loaded(supervisor):
    sup, clock = supervisor
    sup.run_once()
    clock[0] += 0.5
    sup.run_once()
    clock[0] += 0.5
    sup.calls.clear()
    sup.run_once()
    # The events handled since the last load are cleaned before the next load, as in Airflow's order.
    assert sup.calls == ["clean", "load", "wait", "events"]


def test_another_airflow_keeps_its_supervisor(monkeypatch):
    import airflow.jobs.triggerer_job_runner as module

    monkeypatch.setitem(triggerer_pace.RELIES_ON, next(iter(triggerer_pace.RELIES_ON)), "0" * 64)
    load = module.TriggerRunnerSupervisor.load_triggers
    assert not triggerer_pace.patch(module)
    assert module.TriggerRunnerSupervisor.load_triggers is load


def test_the_upstream_patch_applies_to_the_pinned_airflow(tmp_path):
    """patches/airflow-triggerer-pace.patch is the same change written for Airflow."""
    import airflow.jobs.triggerer_job_runner as module
    from upstream_patch import assert_applies

    assert_applies("airflow-triggerer-pace.patch", module, "airflow-core/src/airflow/jobs/triggerer_job_runner.py",
                   tmp_path)
