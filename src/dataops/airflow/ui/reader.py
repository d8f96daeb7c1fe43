"""The runs' dbt results from Airflow's metadata database (the API server's own session).

Each run's record comes from the XComs its tasks wrote (dataops.runs.records):
the ``dbt_build`` task's report and each model task's ``dbt_outcome``. They
stay as long as the DAG run does, so the history outlives task logs and needs
no table of the platform's; ``airflow db clean`` removes both together.
"""

from __future__ import annotations

from airflow.models.dagrun import DagRun
from airflow.models.xcom import XComModel
from sqlalchemy import select

from dataops.airflow.naming import PRODUCER_TASK_ID
from dataops.airflow.run_report import RESULTS_KEY
from dataops.runs.records import RunRecord

OUTCOME_KEY = "dbt_outcome"


def _xcoms(session, dag_id: str, run_ids: list[str]) -> dict[str, dict[str, dict]]:
    """run_id -> task_id -> {key: value} for the keys the platform's tasks write."""
    rows = session.scalars(
        select(XComModel).where(
            XComModel.dag_id == dag_id,
            XComModel.run_id.in_(run_ids),
            XComModel.key.in_([RESULTS_KEY, OUTCOME_KEY]),
            XComModel.map_index == -1,
        )
    )
    found: dict[str, dict[str, dict]] = {}
    for row in rows:
        found.setdefault(row.run_id, {}).setdefault(row.task_id, {})[row.key] = XComModel.deserialize_value(row)
    return found


def _record(run: DagRun, xcoms: dict[str, dict]) -> RunRecord:
    report = (xcoms.get(PRODUCER_TASK_ID) or {}).get(RESULTS_KEY)
    outcomes = {}
    for task_id, values in xcoms.items():
        outcome = values.get(OUTCOME_KEY)
        if isinstance(outcome, dict):
            uid = outcome.get("unique_id") or _uid_of(outcome, report, task_id)
            if uid:
                outcomes[uid] = outcome
    return RunRecord.build(
        dag_id=run.dag_id,
        run_id=run.run_id,
        state=str(run.state) if run.state else None,
        started_at=run.start_date,
        code_version=run.bundle_version,
        report=report,
        task_outcomes=outcomes,
    )


def _uid_of(outcome: dict, report, task_id: str) -> str | None:
    """The node of a task's outcome: its first member is the node itself (or a source's test)."""
    members = outcome.get("members") or []
    for member in members:
        uid = member.get("unique_id", "")
        if not uid.startswith(("test.", "unit_test.")):
            return uid
    nodes = (report or {}).get("nodes") or {}
    matches = [uid for uid, o in nodes.items() if o.get("members") == members and members]
    return matches[0] if matches else None


def run_record(session, dag_id: str, run_id: str) -> RunRecord | None:
    run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    if run is None:
        return None
    return _record(run, _xcoms(session, dag_id, [run_id]).get(run_id, {}))


def latest_records(session, dag_id: str, limit: int) -> list[RunRecord]:
    """The last ``limit`` runs of ``dag_id`` that ran dbt, oldest first."""
    runs = list(session.scalars(
        select(DagRun).where(DagRun.dag_id == dag_id, DagRun.start_date.is_not(None))
        .order_by(DagRun.start_date.desc()).limit(limit)
    ))
    xcoms = _xcoms(session, dag_id, [r.run_id for r in runs])
    records = [_record(run, xcoms.get(run.run_id, {})) for run in reversed(runs)]
    return [r for r in records if r.nodes]


def latest_run_id(session, dag_id: str) -> str | None:
    return session.scalar(
        select(DagRun.run_id).where(DagRun.dag_id == dag_id, DagRun.start_date.is_not(None))
        .order_by(DagRun.start_date.desc()).limit(1)
    )


def run_report(session, dag_id: str, run_id: str) -> tuple[DagRun | None, dict | None]:
    """The DAG run and its ``dbt_build`` report (None when dbt has not started)."""
    run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    if run is None:
        return None, None
    value = _xcoms(session, dag_id, [run_id]).get(run_id, {}).get(PRODUCER_TASK_ID, {}).get(RESULTS_KEY)
    return run, value if isinstance(value, dict) else None
