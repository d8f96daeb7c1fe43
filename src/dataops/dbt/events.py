"""From dbt's structured log events to the outcome of each task node.

dbt (``--log-format json``) emits one JSON event per line; events about a
node carry ``data.node_info`` with its ``unique_id`` and ``node_status``.
:class:`OutcomeTracker` follows them and decides, per task node of a
:class:`~dataops.dbt.graph.DbtGraph`, when its outcome is final: the node and
every test attached to it have finished. A failure is only final once dbt
has printed its error (in the end-of-run summary), so the task's log says why.

The same tracker reads events from a local subprocess and from CloudWatch
(the ECS executor), and ``run_results.json`` settles whatever events missed.
"""

from __future__ import annotations

import json
import logging
import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dataops.dbt.graph import DbtGraph

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# dbt's node_status values, by what they mean for the task.
_OK = frozenset({"success", "pass", "warn", "no-op", "noop"})
_FAILED = frozenset({"error", "fail", "runtime error"})
_SKIPPED = frozenset({"skipped"})
_DONE = _OK | _FAILED | _SKIPPED
_MAX_LOG_LINES = 40
_MAX_LINE = 2000
_PLAIN_OUTPUT_LINES = 20

log = logging.getLogger(__name__)


def parse_event_line(line: str) -> dict | None:
    """One line of dbt's ``--log-format json`` output as an event, or None."""
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


def is_deprecation(info: dict) -> bool:
    """A deprecation warning (``ConfigSourcePathDeprecation``, ``DeprecatedModel``...), not their summary."""
    name = str(info.get("name") or "")
    return info.get("level") == "warn" and "Deprecat" in name and name != "DeprecationsSummary"


class LogLineReader:
    """Reads dbt's output line by line, wherever it comes from (a pipe, CloudWatch).

    Each JSON event goes to ``on_event`` and its message to ``logger``;
    error-level messages are kept (they say why a run stopped), and so are
    deprecation warnings and the last lines that were not JSON, the only
    trace of a bad command line or a crash.
    """

    def __init__(self, on_event: Callable[[dict], None] | None = None, logger: logging.Logger = log):
        self.on_event = on_event
        self.logger = logger
        self.errors: list[str] = []
        self.deprecations: list[str] = []
        self.plain_output: deque[str] = deque(maxlen=_PLAIN_OUTPUT_LINES)

    def feed(self, line: str) -> None:
        event = parse_event_line(line)
        if event is None:
            self.logger.info("%s", line.rstrip())
            if line.strip():
                self.plain_output.append(line.rstrip())
            return
        info = event.get("info") or {}
        if info.get("level") == "error" and info.get("msg"):
            self.errors.append(info["msg"])
        if is_deprecation(info) and info.get("msg"):
            self.deprecations.append(clean(info["msg"]))
        if info.get("msg"):
            self.logger.info("%s", info["msg"])
        if self.on_event:
            self.on_event(event)


def clean(message: str) -> str:
    return _ANSI.sub("", message or "").rstrip()


def failure_reason(errors: Sequence[str], plain_output: Sequence[str] = (), max_lines: int = 8) -> str:
    """The first lines of what dbt said when it stopped, for a task's message.

    dbt prints a run-stopping error ("Encountered an error: ...", a profile
    or connection problem) as an error-level event; errors it could not even
    log as JSON (a bad command line) only as plain text.
    """
    chosen = next((e for e in errors if e.startswith("Encountered an error")), None)
    if chosen is None and errors:
        chosen = errors[-1]
    lines = clean(chosen).splitlines() if chosen else [clean(line) for line in plain_output[-max_lines:]]
    lines = [line.rstrip() for line in lines if line.strip()]
    return "\n".join(lines[:max_lines]) or "dbt printed no error"


@dataclass
class NodeProgress:
    status: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    execution_time: float | None = None
    error: str | None = None
    # What the adapter reported (adapter_response.rows_affected); None where it says nothing.
    rows_affected: int | None = None


def rows_affected(adapter_response) -> int | None:
    """``adapter_response.rows_affected`` when the adapter gives a count (dbt-duckdb gives none, -1 is none)."""
    if not isinstance(adapter_response, dict):
        return None
    value = adapter_response.get("rows_affected")
    try:
        count = int(value)
    except (TypeError, ValueError):
        return None
    return count if count >= 0 else None


@dataclass
class TaskOutcome:
    """What a task node's task reports: one of success, failed, skipped."""

    unique_id: str
    state: str
    summary: str
    started_at: str | None = None
    finished_at: str | None = None
    execution_time: float = 0.0
    log: list[str] = field(default_factory=list)
    # The lines of ``log`` that dbt logged at error level.
    errors: list[str] = field(default_factory=list)
    # dbt's message for each failed member (the node, its tests), "" when it gave none; not published.
    failures: list[str] = field(default_factory=list)
    # dbt's own record of each member (the node and its tests): unique_id, status, started_at,
    # finished_at, execution_time, rows_affected; the timeline and the history read them.
    members: list[dict] = field(default_factory=list)
    # The task nodes this one depends on (the graph's edges): the timeline's critical path.
    depends_on: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "unique_id": self.unique_id,
            "state": self.state,
            "summary": self.summary,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "execution_time": round(self.execution_time, 3),
            "log": self.log,
            "errors": self.errors,
            "members": self.members,
            "depends_on": self.depends_on,
        }


class OutcomeTracker:
    """Feeds on dbt events; yields task outcomes as they become final."""

    def __init__(self, graph: DbtGraph, expected: set[str] | None = None):
        self.graph = graph
        self.expected = set(expected if expected is not None else graph.nodes)
        self.progress: dict[str, NodeProgress] = {}
        self.logs: dict[str, list[str]] = {uid: [] for uid in self.expected}
        self.error_lines: dict[str, list[str]] = {uid: [] for uid in self.expected}
        self.outcomes: dict[str, TaskOutcome] = {}
        self.errors: list[str] = []

    def owner(self, unique_id: str) -> str | None:
        if unique_id in self.graph.nodes:
            return unique_id
        return self.graph.test_owner.get(unique_id)

    def feed(self, event: dict) -> list[TaskOutcome]:
        """Take one event; return the outcomes that became final with it."""
        info = event.get("info") or {}
        data = event.get("data") or {}
        msg = clean(info.get("msg", ""))
        node_info = data.get("node_info") or {}
        uid = node_info.get("unique_id")
        if not uid:
            if info.get("level") == "error" and msg:
                self.errors.append(msg)
            return []
        owner = self.owner(uid)
        if owner is None or owner not in self.expected:
            return []
        progress = self.progress.setdefault(uid, NodeProgress())
        status = node_info.get("node_status")
        if status in _DONE:
            progress.status = status
        progress.started_at = node_info.get("node_started_at") or progress.started_at
        progress.finished_at = node_info.get("node_finished_at") or progress.finished_at
        if "execution_time" in data:
            progress.execution_time = float(data["execution_time"] or 0)
        run_result = data.get("run_result")
        if isinstance(run_result, dict) and rows_affected(run_result.get("adapter_response")) is not None:
            progress.rows_affected = rows_affected(run_result.get("adapter_response"))
        if info.get("name") == "RunResultError" and msg:
            progress.error = msg
        if msg:
            lines = self.logs[owner]
            if len(lines) < _MAX_LOG_LINES:
                lines.append(msg[:_MAX_LINE])
                if info.get("level") == "error":
                    self.error_lines[owner].append(msg[:_MAX_LINE])
        return self._settle(owner, end_of_run=False)

    def finish(self, run_results: dict | None = None) -> list[TaskOutcome]:
        """dbt has exited: fold in run_results.json and settle every node."""
        for result in (run_results or {}).get("results", ()):
            uid = result.get("unique_id")
            if not uid or self.owner(uid) is None:
                continue
            progress = self.progress.setdefault(uid, NodeProgress())
            progress.status = str(result.get("status") or progress.status)
            progress.execution_time = float(result.get("execution_time") or progress.execution_time or 0)
            if str(result.get("status")) in _FAILED and result.get("message") and not progress.error:
                progress.error = clean(str(result["message"]))
            if progress.rows_affected is None:
                progress.rows_affected = rows_affected(result.get("adapter_response"))
            for timing in result.get("timing") or ():
                if timing.get("name") == "execute":
                    progress.started_at = progress.started_at or timing.get("started_at")
                    progress.finished_at = progress.finished_at or timing.get("completed_at")
        for outcome in self.outcomes.values():
            # Settled from events: run_results.json adds what events lack (rows affected).
            outcome.members = self._records([m["unique_id"] for m in outcome.members])
        final = []
        for owner in sorted(self.expected):
            final += self._settle(owner, end_of_run=True)
        return final

    def _settle(self, owner: str, *, end_of_run: bool) -> list[TaskOutcome]:
        if owner in self.outcomes:
            return []
        node = self.graph.nodes[owner]
        members = [owner, *node.tests] if node.resource_type != "source" else list(node.tests)
        statuses = {m: self.progress[m].status for m in members if m in self.progress}
        own = statuses.get(owner) if node.resource_type != "source" else "success"
        if not end_of_run:
            if own is None or any(statuses.get(m) is None for m in members):
                return []
            if any(statuses[m] in _FAILED and not self.progress[m].error for m in members):
                return []  # wait for dbt's error message (printed at the end of the run)
        elif own is None:
            return []  # dbt never reported the node; the producer says so
        outcome = self._outcome(owner, node.resource_type, members, statuses)
        self.outcomes[owner] = outcome
        return [outcome]

    def _outcome(self, owner: str, kind: str, members: list[str], statuses: dict) -> TaskOutcome:
        failed = [m for m in members if statuses.get(m) in _FAILED]
        own_status = statuses.get(owner)
        p = self.progress.get(owner, NodeProgress())
        log = list(self.logs.get(owner, ()))
        errors = list(self.error_lines.get(owner, ()))
        for m in failed:
            error = (self.progress[m].error or "")[:_MAX_LINE]
            if error and error not in log:  # events missed it, or the log was full
                log.append(error)
                errors.append(error)
        if failed:
            names = ", ".join(_short(m) for m in failed)
            state, summary = "failed", f"dbt reported failures: {names}"
        elif kind != "source" and own_status in _SKIPPED:
            state, summary = "skipped", "dbt skipped this node: something it depends on failed"
        else:
            skipped_tests = [m for m in members if statuses.get(m) in _SKIPPED and m != owner]
            warned = [m for m in members if statuses.get(m) == "warn" and m != owner]
            state = "success"
            summary = f"dbt: {own_status or 'tests passed'}"
            if skipped_tests:
                summary += f" ({len(skipped_tests)} tests skipped)"
            if warned:
                summary += f" ({len(warned)} tests warned: {', '.join(_short(m) for m in warned)})"
        times = [self.progress[m] for m in members if m in self.progress]
        started = min((t.started_at for t in times if t.started_at), default=p.started_at)
        finished = max((t.finished_at for t in times if t.finished_at), default=p.finished_at)
        total = sum(t.execution_time or 0.0 for t in times)
        failures = [self.progress[m].error or "" for m in failed]
        records = self._records(members)
        depends_on = list(self.graph.nodes[owner].depends_on)
        return TaskOutcome(owner, state, summary, started, finished, total, log, errors, failures, records, depends_on)


    def _records(self, members: list[str]) -> list[dict]:
        return [
            {
                "unique_id": m,
                "status": self.progress[m].status,
                "started_at": self.progress[m].started_at,
                "finished_at": self.progress[m].finished_at,
                "execution_time": round(self.progress[m].execution_time or 0.0, 3),
                "rows_affected": self.progress[m].rows_affected,
            }
            for m in members
            if m in self.progress
        ]


def _short(unique_id: str) -> str:
    parts = unique_id.split(".")
    if parts[0] == "test" and len(parts) > 3:
        return "test " + ".".join(parts[2:-1])
    return f"{parts[0]} {'.'.join(parts[2:])}"
