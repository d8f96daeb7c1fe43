"""The one poller per DAG run that all of the run's model triggers share."""

import asyncio
import types

from dataops.airflow import decisions, triggers
from dataops.airflow.run_report import RunReport


def _watch(monkeypatch, reports: list[RunReport | None]) -> tuple[list[float], list[int]]:
    """Runs a watcher over ``reports`` (one per poll); the sleeps it took and the versions it published."""
    real_sleep = asyncio.sleep
    sleeps: list[float] = []
    published: list[int] = []

    async def sleep(seconds):
        sleeps.append(seconds)
        await real_sleep(0)

    fake = types.SimpleNamespace(**{n: getattr(asyncio, n) for n in dir(asyncio) if not n.startswith("_")})
    fake.sleep = sleep
    monkeypatch.setattr(triggers, "asyncio", fake)
    polls = iter(reports)

    async def report(self):
        if self.snapshot is not None and self.snapshot.version not in published:
            published.append(self.snapshot.version)
        try:
            return next(polls)
        except StopIteration:
            raise asyncio.CancelledError from None

    async def states(self):
        return {"dbt_build": "running"}

    monkeypatch.setattr(triggers._RunWatcher, "_report", report)
    monkeypatch.setattr(triggers._RunWatcher, "_states", states)
    watcher = triggers._RunWatcher("dag", "run", "dbt_build", interval=0.25)

    async def run():
        try:
            await watcher._poll()
        except asyncio.CancelledError:
            pass

    asyncio.run(run())
    return sleeps, published


def test_polls_slow_down_until_dbt_reports_a_node_then_keep_the_poll_interval(monkeypatch):
    started = RunReport(run_epoch="e", try_number=1)
    one_done = RunReport(run_epoch="e", try_number=1, nodes={"model.a": {"state": "success"}})
    sleeps, published = _watch(monkeypatch, [None, None, None, None, started, started, one_done, one_done])
    assert sleeps == [0.25, 0.5, 1.0, 1.0, 1.0, 1.0, 0.25, 0.25]
    # The triggers decide again only on a new snapshot: three distinct ones, not eight polls.
    assert published == [1, 2, 3]


def _state_reads(monkeypatch, waiting_for: frozenset[str]) -> list[float]:
    """When a watcher read the task states over a run: idle, eight polls of dbt reporting, final;
    ``waiting_for``: a trigger's interest, listening throughout."""
    clock = [0.0]
    monkeypatch.setattr(triggers, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))
    started = RunReport(run_epoch="e", try_number=1)
    reports = [RunReport(run_epoch="e", try_number=1, nodes={f"model.m{i}": {"state": "success"} for i in range(n)})
               for n in range(1, 9)]
    final = RunReport(run_epoch="e", try_number=1, final=True, nodes=reports[-1].nodes)
    polls = iter([None, started, *reports, final, final])
    read_states_at: list[float] = []

    async def report(self):
        try:
            return next(polls)
        except StopIteration:
            raise asyncio.CancelledError from None

    async def states(self):
        read_states_at.append(clock[0])
        return {"dbt_build": "running"}

    real_sleep = asyncio.sleep

    async def sleep(seconds):
        clock[0] += seconds
        await real_sleep(0)

    fake = types.SimpleNamespace(**{n: getattr(asyncio, n) for n in dir(asyncio) if not n.startswith("_")})
    fake.sleep = sleep
    monkeypatch.setattr(triggers, "asyncio", fake)
    monkeypatch.setattr(triggers._RunWatcher, "_report", report)
    monkeypatch.setattr(triggers._RunWatcher, "_states", states)

    async def run():
        watcher = triggers._RunWatcher("dag", "run", "dbt_build", interval=0.25)
        watcher._add(waiting_for)
        try:
            await watcher._poll()
        except asyncio.CancelledError:
            pass

    asyncio.run(run())
    return read_states_at


def test_while_dbt_reports_and_a_model_task_waits_the_task_states_are_read_once_a_second(monkeypatch):
    # Each read loads every task instance of the run; the model tasks end from the report.
    reads = _state_reads(monkeypatch, frozenset({triggers.node_key("model.z"), triggers.task_key("dbt_build")}))
    # Before dbt's first node, every poll (at 0 and 0.25, the idle polls doubling). The eight polls
    # of nodes, 0.25 s apart from 0.75: a second after the last read only (1.25, 2.25). The final
    # report, and after: every poll again (2.75, 3.0).
    assert reads == [0.0, 0.25, 1.25, 2.25, 2.75, 3.0]


def test_once_no_model_task_waits_the_task_states_are_read_at_every_poll(monkeypatch):
    # Only the run's last task listens (it decides from every task's state): it ends as soon as
    # the last model task's state is read.
    reads = _state_reads(monkeypatch, frozenset({triggers.task_key("dbt_build"), triggers.task_key("orders")}))
    assert reads == [0.0, 0.25, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75, 3.0]


def test_a_snapshot_where_the_producer_has_ended_holds_the_report_it_wrote_before_ending(monkeypatch):
    # The report and the states are read at once: the producer can push its last report and end
    # between the two reads. The snapshot must not pair "dbt_build ended" with the report before.
    running = RunReport(run_epoch="e", try_number=1, nodes={"model.a": {"state": "success"}})
    last = RunReport(run_epoch="e", try_number=1, final=True,
                     nodes={"model.a": {"state": "success"}, "model.b": {"state": "failed"}})
    reads = iter([running, last])

    async def report(self):
        return next(reads)

    async def states(self):
        return {"dbt_build": "success", "b": "scheduled"}

    monkeypatch.setattr(triggers._RunWatcher, "_report", report)
    monkeypatch.setattr(triggers._RunWatcher, "_states", states)

    async def first_snapshot():
        async with triggers._RunWatcher.listen("dag", "run", "dbt_build", 0.25) as listener:
            return await listener.next_snapshot()

    snapshot = asyncio.run(first_snapshot())
    assert snapshot.report == last
    view = decisions.NodeView("model.b", "e", "dbt_build")
    # dbt's own outcome of the node, not "dbt_build ended success before dbt reported this node".
    assert decisions.decide_node(view, snapshot.report, snapshot.states).outcome == {"state": "failed"}


def test_a_snapshot_wakes_only_the_triggers_whose_decision_it_can_change():
    from dataops.airflow.triggers import _RunWatcher, _Snapshot, changed_keys, node_key, task_key

    watcher = _RunWatcher("dag", "run", "dbt_build", interval=0.25)
    model_a = watcher._add(frozenset({node_key("model.a"), task_key("dbt_build")}))
    # model.b's task follows model_a's task (its upstream, for a rebuild on a worker).
    model_b = watcher._add(frozenset({node_key("model.b"), task_key("dbt_build"), task_key("model_a")}))
    summary = watcher._add(None)
    listeners = {"a": model_a, "b": model_b, "summary": summary}

    def publish(report, states) -> set[str]:
        changed = changed_keys(watcher.snapshot, report, states)
        version = watcher.snapshot.version + 1 if watcher.snapshot else 1
        watcher._publish(_Snapshot(report, states, version), changed)
        woken = {name for name, listener in listeners.items() if listener.woken.is_set()}
        for listener in listeners.values():
            listener.woken.clear()
        return woken

    running = {"dbt_build": "running", "model_a": "deferred", "model_b": "deferred"}
    started = RunReport(run_epoch="e", try_number=1)
    assert publish(started, running) == {"a", "b", "summary"}  # the first snapshot: everyone decides
    a_done = RunReport(run_epoch="e", try_number=1, nodes={"model.a": {"state": "success"}})
    assert publish(a_done, running) == {"a", "summary"}
    assert publish(a_done, {**running, "model_a": "success"}) == {"b", "summary"}
    ended = RunReport(run_epoch="e", try_number=1, final=True, returncode=0, nodes=a_done.nodes)
    assert publish(ended, {**running, "model_a": "success"}) == {"a", "b", "summary"}  # the report as a whole


def test_models_reported_one_at_a_time_wake_each_models_trigger_once():
    from dataops.airflow.triggers import _RunWatcher, _Snapshot, changed_keys, node_key, task_key

    n = 300
    watcher = _RunWatcher("dag", "run", "dbt_build", interval=0.25)
    listeners = [watcher._add(frozenset({node_key(f"model.m{i}"), task_key("dbt_build")})) for i in range(n)]
    states = {"dbt_build": "running"}
    nodes: dict[str, dict] = {}
    watcher._publish(_Snapshot(RunReport("e", 1), states, 1), None)
    wakes = 0
    for i in range(n):
        nodes = {**nodes, f"model.m{i}": {"state": "success"}}
        report = RunReport("e", 1, nodes=nodes)
        for listener in listeners:
            listener.woken.clear()
        watcher._publish(_Snapshot(report, states, i + 2), changed_keys(watcher.snapshot, report, states))
        wakes += sum(listener.woken.is_set() for listener in listeners)
    # One wake per model, not one per model and report (n squared).
    assert wakes == n
