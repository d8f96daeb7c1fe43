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
        async with triggers._RunWatcher.listen("dag", "run", "dbt_build", 0.25) as watcher:
            return await watcher.next_snapshot(0)

    snapshot = asyncio.run(first_snapshot())
    assert snapshot.report == last
    view = decisions.NodeView("model.b", "e", "dbt_build")
    # dbt's own outcome of the node, not "dbt_build ended success before dbt reported this node".
    assert decisions.decide_node(view, snapshot.report, snapshot.states).outcome == {"state": "failed"}
