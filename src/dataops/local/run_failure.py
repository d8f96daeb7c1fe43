"""Why a DAG run failed, in dbt's own words: the first lines of dbt's error
for each failed model, read from the run's XComs through the REST API.

The ``dbt_build`` task pushes every node's outcome (``dbt_results``: state,
summary and the node's log, which ends with dbt's error) and dbt's own error
if it stopped before any model; each model task pushes its outcome
(``dbt_outcome``: state and summary).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dataops.airflow.naming import PRODUCER_TASK_ID
from dataops.airflow.run_report import RESULTS_KEY

OUTCOME_KEY = "dbt_outcome"
# Lines of dbt's error shown per failed model: the error and where it is, not the whole SQL.
MAX_LINES = 6
OK_STATES = frozenset({"success", "skipped"})
# dbt's progress lines in a node's log ("28 of 54 START ...", "28 of 54 ERROR creating ...").
_PROGRESS_LINE = re.compile(r"^\d+ of \d+ ")


@dataclass(frozen=True)
class FailedRun:
    dag_id: str
    state: str
    task_states: dict[str, str | None]
    # task id -> dbt's summary of its node's failure.
    summaries: dict[str, str] = field(default_factory=dict)
    # The dbt_build task's report (``RunReport.to_json()``), if it pushed one.
    report: dict | None = None


def read_failed_run(api, dag_id: str, run_id: str, state: str, task_states: dict[str, str | None]) -> FailedRun:
    """The failed run's outcomes, through ``api`` (a ``dataops.local.api.AirflowApi``)."""
    summaries = {}
    for task_id, task_state in sorted(task_states.items()):
        if task_state != "failed" or task_id == PRODUCER_TASK_ID:
            continue
        outcome = api.xcom(dag_id, run_id, task_id, OUTCOME_KEY)
        if isinstance(outcome, dict) and outcome.get("state") == "failed" and outcome.get("summary"):
            summaries[task_id] = str(outcome["summary"])
    report = api.xcom(dag_id, run_id, PRODUCER_TASK_ID, RESULTS_KEY)
    return FailedRun(dag_id, state, task_states, summaries, report if isinstance(report, dict) else None)


def describe(run: FailedRun, logs_dir: Path) -> str:
    """The run's failure: which tasks, then dbt's error for each failed node."""
    not_ok = sorted(t for t, s in run.task_states.items() if s not in OK_STATES)
    lines = [f"the DAG {run.dag_id} ended {run.state}; tasks not successful: {', '.join(not_ok) or 'none'}."]
    report = run.report or {}
    told = set()
    for unique_id, outcome in sorted((report.get("nodes") or {}).items()):
        outcome = outcome or {}
        if outcome.get("state") != "failed":
            continue
        summary = str(outcome.get("summary") or "")
        lines += _block(_node_name(unique_id), dbt_error(outcome.get("log") or []) or summary)
        told.add(summary.strip())
    # A task whose node the report does not hold (its own dbt ran it, after a clear).
    for task_id, summary in run.summaries.items():
        if summary.strip() not in told:
            lines += _block(task_id, summary)
            told.add(summary.strip())
    if report.get("error") and not told:
        lines += _block(PRODUCER_TASK_ID, str(report["error"]))
    lines.append(f"Task logs are under {logs_dir}; `dataops up` shows the run in the UI.")
    return "\n".join(lines)


def dbt_error(log: list[str]) -> str:
    """dbt's error in a node's log: the entries after its last progress line
    ("28 of 54 ERROR creating ..."), each said once."""
    trailing: list[str] = []
    for entry in reversed(log):
        if _PROGRESS_LINE.match(entry.strip()):
            break
        if entry not in trailing:
            trailing.insert(0, entry)
    return "\n".join(trailing)


def _node_name(unique_id: str) -> str:
    """``model.tickit.x`` as ``model x`` (a test's hash left out)."""
    parts = unique_id.split(".")
    if parts[0] == "test" and len(parts) > 3:
        return f"test {'.'.join(parts[2:-1])}"
    return f"{parts[0]} {'.'.join(parts[2:])}" if len(parts) > 2 else unique_id


def _block(name: str, text: str) -> list[str]:
    body = [line.rstrip() for line in text.strip("\n").splitlines() if line.strip()]
    if len(body) > MAX_LINES:
        body = body[:MAX_LINES] + ["..."]
    return [f"  {name}:"] + [f"    {line}" for line in body]
