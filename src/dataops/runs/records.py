"""A DAG run's dbt results as records: each task node and each of its members (the node, its tests).

The sources are the XComs the platform's tasks already write, in Airflow's
metadata database, where they live as long as the DAG run (``airflow db
clean`` removes both together), unlike task logs:

- ``dbt_build``'s ``dbt_results`` report (dataops.airflow.run_report): every
  node's outcome, rewritten at the end with what run_results.json added;
- each model task's ``dbt_outcome``: the same outcome, and after a clear the
  outcome of the task's own rebuild, which then wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

# The node kinds that build something; tests are members of the node they test.
BUILT_KINDS = frozenset({"model", "seed", "snapshot"})
# dbt statuses that mean a member did not do its job, and what it did not run.
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})


def parse_time(value) -> datetime | None:
    """An ISO time (dbt's, Airflow's) as an aware UTC datetime; None when absent or unreadable."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def short_name(unique_id: str) -> str:
    """``model.tickit.x`` -> ``x``; a test's name without its hash."""
    parts = unique_id.split(".")
    if parts[0] in {"test", "unit_test"} and len(parts) > 3:
        return ".".join(parts[2:-1])
    return ".".join(parts[2:]) or unique_id


class _Named:
    """kind and name, read from a dbt unique_id ("model.tickit.x": model, x)."""

    unique_id: str

    @property
    def kind(self) -> str:
        return self.unique_id.split(".", 1)[0]

    @property
    def name(self) -> str:
        return short_name(self.unique_id)


@dataclass(frozen=True)
class MemberRun(_Named):
    """One dbt node as dbt ran it: a model, seed or snapshot, or one of its tests."""

    unique_id: str
    status: str | None
    started_at: datetime | None
    finished_at: datetime | None
    execution_time: float
    rows_affected: int | None = None

    @property
    def outcome(self) -> str:
        """success, warn, failed or skipped."""
        if self.status in FAILED_STATUSES:
            return "failed"
        if self.status == "skipped":
            return "skipped"
        return "warn" if self.status == "warn" else "success"

    @classmethod
    def from_json(cls, data: Mapping) -> MemberRun:
        return cls(
            unique_id=str(data["unique_id"]),
            status=data.get("status"),
            started_at=parse_time(data.get("started_at")),
            finished_at=parse_time(data.get("finished_at")),
            execution_time=float(data.get("execution_time") or 0.0),
            rows_affected=data.get("rows_affected") if isinstance(data.get("rows_affected"), int) else None,
        )

    def to_json(self) -> dict:
        return {
            "unique_id": self.unique_id,
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "outcome": self.outcome,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "execution_time": self.execution_time,
            "rows_affected": self.rows_affected,
        }


@dataclass(frozen=True)
class NodeRun(_Named):
    """One task node of the DAG (a model with its tests, a tested source): its outcome and members."""

    unique_id: str
    state: str  # the task's outcome: success, failed or skipped
    summary: str
    members: tuple[MemberRun, ...]
    depends_on: tuple[str, ...] = ()

    @property
    def own(self) -> MemberRun | None:
        """The node's own record (a model's build); None for a source, whose members are its tests."""
        return next((m for m in self.members if m.unique_id == self.unique_id), None)

    @property
    def started_at(self) -> datetime | None:
        return min((m.started_at for m in self.members if m.started_at), default=None)

    @property
    def finished_at(self) -> datetime | None:
        return max((m.finished_at for m in self.members if m.finished_at), default=None)

    @property
    def duration(self) -> float | None:
        """dbt's execution time of the node itself (a model's build, without its tests)."""
        own = self.own
        return own.execution_time if own is not None and own.outcome != "skipped" else None

    @classmethod
    def from_outcome(cls, unique_id: str, outcome: Mapping) -> NodeRun:
        members = tuple(MemberRun.from_json(m) for m in outcome.get("members") or () if isinstance(m, Mapping))
        if not members and outcome.get("state") != "skipped":
            # A report written before members were recorded: the node alone, with the outcome's times.
            status = {"failed": "error"}.get(str(outcome.get("state")), outcome.get("state"))
            members = (MemberRun(unique_id, status, parse_time(outcome.get("started_at")),
                                 parse_time(outcome.get("finished_at")), float(outcome.get("execution_time") or 0)),)
        return cls(
            unique_id=unique_id,
            state=str(outcome.get("state") or "unknown"),
            summary=str(outcome.get("summary") or ""),
            members=members,
            depends_on=tuple(outcome.get("depends_on") or ()),
        )


@dataclass(frozen=True)
class RunRecord:
    """One DAG run as dbt saw it."""

    dag_id: str
    run_id: str
    state: str | None
    started_at: datetime | None
    code_version: str
    nodes: dict[str, NodeRun] = field(default_factory=dict)
    error: str | None = None

    @classmethod
    def build(
        cls,
        *,
        dag_id: str,
        run_id: str,
        state: str | None,
        started_at,
        code_version: str | None,
        report: Mapping | None,
        task_outcomes: Mapping[str, Mapping] = (),
    ) -> RunRecord:
        """From the producer's report and the model tasks' outcomes (by unique_id); a task's own
        outcome wins when it is newer (the task was cleared and rebuilt its node alone)."""
        outcomes: dict[str, Mapping] = {}
        if isinstance(report, Mapping):
            outcomes.update({uid: o for uid, o in (report.get("nodes") or {}).items() if isinstance(o, Mapping)})
        for uid, outcome in dict(task_outcomes or {}).items():
            if not isinstance(outcome, Mapping):
                continue
            known = outcomes.get(uid)
            if known is None or _later(outcome, known):
                outcomes[uid] = outcome
        nodes = {uid: NodeRun.from_outcome(uid, o) for uid, o in sorted(outcomes.items())}
        return cls(
            dag_id=dag_id,
            run_id=run_id,
            state=state,
            started_at=parse_time(started_at),
            code_version=code_version or "working tree",
            nodes=nodes,
            error=(report or {}).get("error") if isinstance(report, Mapping) else None,
        )

    def summary_json(self) -> dict:
        return {
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "state": self.state,
            "started_at": _iso(self.started_at),
            "code_version": self.code_version,
        }


def _started(outcome: Mapping) -> datetime | None:
    times = [parse_time(outcome.get("started_at"))]
    times += [parse_time(m.get("started_at")) for m in outcome.get("members") or () if isinstance(m, Mapping)]
    return min((t for t in times if t is not None), default=None)


def _later(a: Mapping, b: Mapping) -> bool:
    a_start, b_start = _started(a), _started(b)
    return a_start is not None and (b_start is None or a_start > b_start)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
