"""Triggers that end dbt tasks from the triggerer, without a worker process.

Every model task of a run starts in the triggerer (``start_from_trigger``)
and waits there, as a coroutine, for its node's outcome. One
:class:`_RunWatcher` per DAG run and triggerer process polls the producer's
report (and the run's task states, see :data:`LIVE_STATES_INTERVAL`) through
the triggerer's API client and shares each snapshot with that run's
triggers, so a run with a thousand models costs one or two small requests
per poll, not two thousand. A new snapshot
wakes only the triggers whose decision it can change (their node's outcome,
the producer's or an upstream task's state, or the report as a whole): dbt
reports one node at a time, and waking every trigger on each would cost
the number of models squared.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, ClassVar

from airflow.triggers.base import BaseTrigger, TaskFailedEvent, TaskSuccessEvent, TriggerEvent

from dataops.airflow import triggerer_wake
from dataops.airflow.decisions import Decision, NodeView, decide_node, decide_publication, decide_summary
from dataops.airflow.run_report import RESULTS_KEY, TERMINAL_TASK_STATES, RunReport, run_epoch

log = logging.getLogger(__name__)

# Two small API calls per run and poll, shared by all of the run's triggers.
DEFAULT_POLL_INTERVAL = 0.25
# Until dbt_build reports its first node (waiting for a worker, starting dbt,
# parsing) the polls slow down, doubling up to this; from the first report on
# they keep the poll interval, so the end of a run is seen at once. Each poll
# costs the triggerer and the API server.
MAX_IDLE_POLL_INTERVAL = 1.0
# While dbt reports nodes (a report of this run, not yet final) and a trigger
# still waits for its node's outcome, the model tasks end from the report, and
# the task states (a read of every task instance of the run: about 11 ms of the
# triggerer's CPU at 200 models, on a slow 2-core machine) only tell of a
# producer that died: they are read at most this often. Otherwise, when the
# run's last task decides from the states, at every poll.
LIVE_STATES_INTERVAL = 1.0


class _Snapshot:
    __slots__ = ("report", "states", "version")

    def __init__(self, report: RunReport | None, states: dict[str, str | None], version: int):
        self.report, self.states, self.version = report, states, version


_NODE_PREFIX = "node:"


def node_key(unique_id: str) -> str:
    return f"{_NODE_PREFIX}{unique_id}"


def task_key(task_id: str) -> str:
    return f"task:{task_id}"


def changed_keys(before: _Snapshot | None, report: RunReport | None, states: dict[str, str | None]) -> frozenset[str] | None:
    """What changed since ``before``: node and task keys, or None when everything may have."""
    if before is None:
        return None
    if before.report is None or report is None:
        # The report appeared or went (a new start of the run): everyone decides again.
        return _task_changes(before.states, states) if before.report is None and report is None else None
    old = before.report
    if (old.run_epoch, old.try_number, old.final, old.returncode, old.error, old.publication) != (
            report.run_epoch, report.try_number, report.final, report.returncode, report.error, report.publication):
        return None
    nodes = {node_key(uid) for uid, outcome in report.nodes.items() if old.nodes.get(uid) != outcome}
    nodes |= {node_key(uid) for uid in old.nodes.keys() - report.nodes.keys()}
    return frozenset(nodes) | _task_changes(before.states, states)


def _task_changes(before: dict[str, str | None], after: dict[str, str | None]) -> frozenset[str]:
    return frozenset(task_key(t) for t in before.keys() | after.keys() if before.get(t) != after.get(t))


def reporting(report: RunReport | None) -> bool:
    """dbt is reporting nodes: the model tasks end from the report, not from task states."""
    return report is not None and bool(report.nodes) and not report.final


class _Listener:
    """One trigger's place at its run's watcher: woken by snapshots that touch what it decides on."""

    __slots__ = ("watcher", "interest", "woken")

    def __init__(self, watcher: _RunWatcher, interest: frozenset[str] | None):
        self.watcher = watcher
        self.interest = interest  # None: every snapshot (the run's summary)
        self.woken = asyncio.Event()

    async def next_snapshot(self) -> _Snapshot:
        """The latest snapshot, once one has come that may change this listener's decision."""
        await self.woken.wait()
        self.woken.clear()
        assert self.watcher.snapshot is not None
        return self.watcher.snapshot


class _RunWatcher:
    """Polls one DAG run for as long as any trigger of that run listens."""

    _watchers: ClassVar[dict[tuple[str, str, str], _RunWatcher]] = {}

    def __init__(self, dag_id: str, run_id: str, producer_task_id: str, interval: float):
        self.dag_id, self.run_id, self.producer_task_id = dag_id, run_id, producer_task_id
        self.interval = interval
        self.snapshot: _Snapshot | None = None
        self.task: asyncio.Task | None = None
        # Who to wake for each key, and who wants every snapshot.
        self.by_key: dict[str, set[_Listener]] = {}
        self.everyone: set[_Listener] = set()
        self.listeners = 0

    @classmethod
    @asynccontextmanager
    async def listen(cls, dag_id: str, run_id: str, producer_task_id: str, interval: float,
                     interest: frozenset[str] | None = None):
        """A listener of the run's watcher (started by the first): woken by a snapshot that changes
        any of ``interest`` (node and task keys), or by every one when None."""
        key = (dag_id, run_id, producer_task_id)
        watcher = cls._watchers.get(key)
        if watcher is None:
            watcher = cls._watchers[key] = cls(dag_id, run_id, producer_task_id, interval)
            watcher.task = asyncio.create_task(watcher._poll(), name=f"dbt-watch {dag_id}/{run_id}")
        listener = watcher._add(interest)
        try:
            yield listener
        finally:
            watcher._remove(listener)
            if watcher.listeners == 0:
                cls._watchers.pop(key, None)
                watcher.task.cancel()

    def _add(self, interest: frozenset[str] | None) -> _Listener:
        listener = _Listener(self, interest)
        self.listeners += 1
        if interest is None:
            self.everyone.add(listener)
        else:
            for key in interest:
                self.by_key.setdefault(key, set()).add(listener)
        if self.snapshot is not None:
            listener.woken.set()  # decides on what is known already
        return listener

    def _remove(self, listener: _Listener) -> None:
        self.listeners -= 1
        self.everyone.discard(listener)
        for key in listener.interest or ():
            waiting = self.by_key.get(key)
            if waiting is not None:
                waiting.discard(listener)
                if not waiting:
                    del self.by_key[key]

    def _waiting_for_nodes(self) -> bool:
        """A trigger listens for a node's outcome (a model task that has yet to end)."""
        return any(key.startswith(_NODE_PREFIX) for key in self.by_key)

    def _publish(self, snapshot: _Snapshot, changed: frozenset[str] | None) -> None:
        self.snapshot = snapshot
        if changed is None:
            woken = set(self.everyone).union(*self.by_key.values())
        else:
            woken = set(self.everyone).union(*(self.by_key.get(key, ()) for key in changed))
        for listener in woken:
            listener.woken.set()

    async def _poll(self) -> None:
        version, interval, seen = 0, self.interval / 2, None
        states: dict[str, str | None] | None = None
        states_read_at = 0.0
        while True:
            try:
                report = await self._report()
                if (states is None or not (reporting(report) and self._waiting_for_nodes())
                        or time.monotonic() - states_read_at >= LIVE_STATES_INTERVAL):
                    states_read_at = time.monotonic()
                    states = await self._states()
                    if states.get(self.producer_task_id) in TERMINAL_TASK_STATES and not (report and report.final):
                        # The producer may have pushed its last report and ended between the two
                        # reads. What it wrote before ending is there now.
                        report = await self._report()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not read the state of %s/%s; retrying", self.dag_id, self.run_id)
                await asyncio.sleep(self.interval * 4)
                continue
            # The decisions are pure functions of the snapshot: the triggers only
            # decide again when it changed.
            if (report, states) != seen:
                seen = (report, states)
                version += 1
                self._publish(_Snapshot(report, states, version), changed_keys(self.snapshot, report, states))
            if report is None or not report.nodes:
                interval = min(interval * 2, max(MAX_IDLE_POLL_INTERVAL, self.interval))
            else:
                interval = self.interval
            await asyncio.sleep(interval)

    async def _report(self) -> RunReport | None:
        from airflow.sdk.bases.xcom import BaseXCom

        value = await BaseXCom.aget_one(
            key=RESULTS_KEY, dag_id=self.dag_id, task_id=self.producer_task_id, run_id=self.run_id
        )
        return RunReport.from_json(value)

    async def _states(self) -> dict[str, str | None]:
        from airflow.sdk.execution_time.comms import GetTaskStates
        from airflow.sdk.execution_time.task_runner import SUPERVISOR_COMMS

        response = await SUPERVISOR_COMMS.asend(GetTaskStates(dag_id=self.dag_id, run_ids=[self.run_id]))
        return dict(getattr(response, "task_states", {}).get(self.run_id, {}))


class _RunTrigger(BaseTrigger):
    """Shared plumbing: the run this trigger belongs to and its watcher."""

    def __init__(self, producer_task_id: str, poll_interval: float = DEFAULT_POLL_INTERVAL):
        super().__init__()
        self.producer_task_id = producer_task_id
        self.poll_interval = poll_interval

    def _ti(self):
        ti = self.task_instance
        if ti is None:
            raise RuntimeError(f"{type(self).__name__} must run for a task instance (start_from_trigger)")
        return ti

    def _run_epoch(self) -> str:
        context = getattr(self._ti(), "_ti_context_from_server", None)
        return run_epoch(getattr(context, "dag_run", None))

    def _interest(self) -> frozenset[str] | None:
        """The node and task keys this trigger decides on; None: all of them."""
        return None

    async def _decisions(self, decide) -> AsyncIterator[Decision]:
        ti = self._ti()
        triggerer_wake.install()
        watching = _RunWatcher.listen(ti.dag_id, ti.run_id, self.producer_task_id, self.poll_interval, self._interest())
        async with watching as listener:
            while True:
                snapshot = await listener.next_snapshot()
                decision = decide(snapshot)
                if decision.action != "wait":
                    # The event leaves as soon as this trigger has finished, not at the runner's next loop.
                    triggerer_wake.wake_when_done()
                    yield decision
                    return


class DbtNodeTrigger(_RunTrigger):
    """Ends a model task with its node's outcome, or resumes it to rebuild."""

    def __init__(
        self,
        unique_id: str,
        producer_task_id: str,
        upstream_task_ids: list[str] | tuple[str, ...] = (),
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ):
        super().__init__(producer_task_id, poll_interval)
        self.unique_id = unique_id
        self.upstream_task_ids = tuple(upstream_task_ids)

    def _interest(self) -> frozenset[str]:
        # What decide_node reads: the node's outcome, the producer's state, the upstream tasks' states
        # (and the report as a whole, which wakes everyone).
        return frozenset({node_key(self.unique_id), task_key(self.producer_task_id),
                          *(task_key(t) for t in self.upstream_task_ids)})

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "unique_id": self.unique_id,
                "producer_task_id": self.producer_task_id,
                "upstream_task_ids": list(self.upstream_task_ids),
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        view = NodeView(self.unique_id, self._run_epoch(), self.producer_task_id, self.upstream_task_ids)
        async for decision in self._decisions(lambda s: decide_node(view, s.report, s.states)):
            if decision.action == "finish" and self._ti().try_number > 1:
                # A later try (its run was cleared): ended here, it would keep the
                # earlier try's end date and show a negative duration (see
                # DbtSummaryTrigger). A worker records the outcome instead, one
                # short process per task of a cleared run.
                self.log.info("Recording the outcome of %s for this cleared try on a worker", self.unique_id)
                yield TriggerEvent(
                    {"action": "finish", "state": decision.state, "message": decision.message,
                     "outcome": decision.outcome}
                )
            else:
                yield self._event(decision)

    def _event(self, decision: Decision) -> TriggerEvent:
        if decision.action == "rebuild":
            self.log.info("No dbt run of this DAG run covers this try: building %s on a worker", self.unique_id)
            return TriggerEvent({"action": "rebuild"})
        outcome = decision.outcome or {}
        log_dbt_lines(outcome, self.log)
        xcoms = {"dbt_outcome": {k: v for k, v in outcome.items() if k != "log"}} if outcome else None
        event = _end_event(decision, self.log, xcoms)
        if outcome.get("execution_time") is not None:
            # Last, so the log's final line gives dbt's own time: the task's
            # Airflow duration starts with the run (trigger rule "always").
            self.log.info(
                "dbt %s: %.2fs execution time (started %s, finished %s); the task's duration counts from the "
                "run's start: dbt's own times of every model are on the run's \"dbt timeline\" tab",
                decision.state,
                outcome.get("execution_time") or 0.0,
                outcome.get("started_at"),
                outcome.get("finished_at"),
            )
        return event


class DbtSummaryTrigger(_RunTrigger):
    """Ends the run's last task: failed if any dbt task did not succeed."""

    def __init__(
        self,
        task_ids: list[str] | tuple[str, ...],
        producer_task_id: str,
        unique_ids: list[str] | tuple[str, ...] = (),
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        publish: str = "direct",
    ):
        super().__init__(producer_task_id, poll_interval)
        self.task_ids = tuple(task_ids)
        self.unique_ids = tuple(unique_ids)
        self.publish = publish

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "task_ids": list(self.task_ids),
                "producer_task_id": self.producer_task_id,
                "unique_ids": list(self.unique_ids),
                "poll_interval": self.poll_interval,
                "publish": self.publish,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        epoch = self._run_epoch()

        def decide(s):
            verdict = decide_summary(self.task_ids, s.states, s.report, self.unique_ids, epoch)
            return verdict if self.publish == "direct" else decide_publication(verdict, s.report, epoch)

        async for decision in self._decisions(decide):
            if decision.action == "publish":
                self.log.info("Every dbt task succeeded; publishing the run's place on a worker")
                yield TriggerEvent({"action": "publish", "message": decision.message})
            elif self._ti().try_number > 1:
                # A later try (the run was cleared): ending it here would keep the
                # earlier try's end date (Airflow 3.3's TaskInstance.set_state keeps
                # an end_date it finds, and clearing leaves it), so the UI would show
                # a negative duration. A worker starts the try afresh; it is one
                # process per clear.
                self.log.info("Recording the verdict of this cleared run on a worker")
                yield TriggerEvent({"action": "finish", "state": decision.state, "message": decision.message})
            else:
                yield _end_event(decision, self.log, None)


def log_dbt_lines(outcome: dict, logger) -> None:
    """dbt's lines for the node, each at dbt's level: its error once, as an error."""
    errors = set(outcome.get("errors") or ())
    for line in outcome.get("log") or ():
        if line in errors:
            logger.error("%s", line)
        else:
            logger.info("%s", line)


def _end_event(decision: Decision, logger, xcoms: dict | None) -> TriggerEvent:
    if decision.state == "success":
        logger.info("%s", decision.message)
        return TaskSuccessEvent(xcoms=xcoms)
    if decision.state == "upstream_failed":
        # A trigger can end a task success, failed or skipped only: the
        # triggerer refuses an event of any other state (Airflow 3.3,
        # airflow/triggers/base.py, DiscrimatedTriggerEvent), and only the
        # scheduler sets upstream_failed, on tasks that have not started and
        # whose trigger rule is not "always". Failed is the state that
        # "clear only failed, with downstream" clears along with the failure
        # this task follows; skipped would stay behind and keep the run failed.
        logger.warning("upstream_failed: %s", decision.message)
        return TaskFailedEvent(xcoms=xcoms)
    logger.error("%s", decision.message)
    return TaskFailedEvent(xcoms=xcoms)
