"""The triggerer's supervisor keeps a finished trigger's log open one loop more
(dataops.airflow.triggerer_logs): guarded against the pinned Airflow changing,
and what it does, on a stand-in supervisor."""

from __future__ import annotations

from types import SimpleNamespace

from dataops.airflow import triggerer_logs


def test_the_pinned_airflows_supervisor_is_the_one_the_fix_was_written_for():
    assert triggerer_logs.changed_internals() == []


class _Factory:
    def __init__(self):
        self.uploaded = self.closed = False

    def upload_to_remote(self):
        self.uploaded = True

    def close(self):
        self.closed = True


def test_finished_triggers_logs_stay_open_until_the_next_loop_has_read_them():
    factories = {1: _Factory(), 2: _Factory(), 3: _Factory()}
    supervisor = SimpleNamespace(running_triggers={1, 2, 3}, cancelling_triggers={2}, logger_cache=dict(factories))
    msg = SimpleNamespace(finished=[1, 2])

    triggerer_logs.defer_finished(supervisor, msg)
    # What the original would do for them, but their logs: it sees no finished trigger.
    assert msg.finished == [] and supervisor.running_triggers == {3} and supervisor.cancelling_triggers == set()
    assert set(supervisor.logger_cache) == {1, 2, 3}
    closing = triggerer_logs._closing.pop(id(supervisor))
    assert closing == [1, 2]

    triggerer_logs.close_logs(supervisor, closing)
    assert set(supervisor.logger_cache) == {3}
    assert all(f.uploaded and f.closed for f in (factories[1], factories[2])) and not factories[3].closed


def test_the_fix_patches_the_triggerers_supervisor_once():
    from airflow.jobs import triggerer_job_runner as module

    assert triggerer_logs.patch(module) and triggerer_logs.patch(module)
    cls = module.TriggerRunnerSupervisor
    assert cls.run_once.__wrapped__.__name__ == "run_once"
    assert not hasattr(cls.run_once.__wrapped__, "__wrapped__")
