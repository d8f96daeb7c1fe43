"""The triggerer's supervisor keeps a finished trigger's log open a little longer
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
    assert [f.trigger_id for f in closing] == [1, 2]

    triggerer_logs.close_logs(supervisor, [f.trigger_id for f in closing])
    assert set(supervisor.logger_cache) == {3}
    assert all(f.uploaded and f.closed for f in (factories[1], factories[2])) and not factories[3].closed


def test_a_finished_triggers_log_closes_after_two_loops_and_three_seconds_not_before():
    Finished = triggerer_logs._Finished
    # One loop read after it finished: not yet, however long ago (each loop reads one chunk of the socket).
    assert triggerer_logs.due([Finished(1, at=0.0, loops=1)], now=60.0) == ([], [Finished(1, 0.0, 1)])
    # Two loops, but within a busy second: not yet.
    assert triggerer_logs.due([Finished(1, at=10.0, loops=5)], now=11.0)[0] == []
    closing, open_ = triggerer_logs.due([Finished(1, at=0.0, loops=2), Finished(2, at=2.0, loops=2)], now=3.5)
    assert closing == [1] and [f.trigger_id for f in open_] == [2]


def test_past_the_cap_the_oldest_logs_close_once_a_loop_has_read_after_they_finished(monkeypatch):
    monkeypatch.setattr(triggerer_logs, "MAX_LINGERING", 2)
    Finished = triggerer_logs._Finished
    lingering = [Finished(1, 0.0, 1), Finished(2, 0.0, 0), Finished(3, 0.1, 1), Finished(4, 0.1, 0)]
    closing, open_ = triggerer_logs.due(lingering, now=1.0)
    # Two too many: 1 closes early; 2 has had no loop since it finished, so it stays open for now.
    assert closing == [1] and [f.trigger_id for f in open_] == [2, 3, 4]


def test_the_patched_loop_closes_a_log_only_when_it_is_due(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(triggerer_logs.time, "monotonic", lambda: clock[0])
    factory = _Factory()

    class StateChanges:
        def __init__(self, finished):
            self.finished = finished

    class Supervisor:  # the pinned one's shape: requests handled during a loop that takes a while
        def __init__(self):
            self.running_triggers, self.cancelling_triggers, self.logger_cache = {7}, set(), {7: factory}
            self.inbox = []

        def _handle_request(self, msg, log, req_id):
            for trigger_id in msg.finished or ():  # what the original does: close at once
                self.logger_cache.pop(trigger_id).close()

        def run_once(self):
            for msg in self.inbox:
                self._handle_request(msg, None, 0)
            self.inbox = []
            clock[0] += 0.5

    assert triggerer_logs.patch(SimpleNamespace(TriggerRunnerSupervisor=Supervisor,
                                                messages=SimpleNamespace(TriggerStateChanges=StateChanges)))
    supervisor = Supervisor()
    supervisor.inbox.append(StateChanges([7]))
    for _ in range(4):
        supervisor.run_once()
    assert not factory.closed and 7 not in supervisor.running_triggers  # 3 loops since, 1.5 s
    for _ in range(4):
        supervisor.run_once()
    assert factory.closed and 7 not in supervisor.logger_cache and not triggerer_logs._closing[id(supervisor)]


def test_the_fix_patches_the_triggerers_supervisor_once():
    from airflow.jobs import triggerer_job_runner as module

    assert triggerer_logs.patch(module) and triggerer_logs.patch(module)
    cls = module.TriggerRunnerSupervisor
    assert cls.run_once.__wrapped__.__name__ == "run_once"
    assert not hasattr(cls.run_once.__wrapped__, "__wrapped__")
