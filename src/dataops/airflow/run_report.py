"""What the ``dbt_build`` task tells the model tasks of its DAG run.

The producer publishes one XCom (``dbt_results``), rewritten as dbt reports
nodes: which start of the DAG run it belongs to, whether dbt has exited, and
the final outcome of each task node. XCom travels through Airflow's own API,
so this works the same with the LocalExecutor, Celery workers on other hosts,
and ECS. Model tasks only trust a report of their DAG run's current start:
after a task of a finished run is cleared, the run starts again (Airflow sets
a new ``start_date``) and an older report is history.

The run's start, not its ``clear_number``, tells them apart because the
triggerer is not given ``clear_number`` (Airflow 3.3 builds the triggers'
DAG run from ``DagRun.dag_run_data``, which leaves it at 0). A limit that
follows: clearing a task while its run is still running does not make a new
start, so that task takes the running dbt's verdict again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

RESULTS_KEY = "dbt_results"
TERMINAL_TASK_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
NOT_BUILT_STATES = frozenset({"failed", "skipped", "upstream_failed"})


def run_epoch(dag_run) -> str:
    """Which start of ``dag_run`` this is: its ``start_date``, normalized."""
    started = getattr(dag_run, "start_date", None)
    if not isinstance(started, datetime):
        return ""
    if started.tzinfo is None:
        started = started.replace(tzinfo=timezone.utc)
    return started.astimezone(timezone.utc).isoformat(timespec="microseconds")


@dataclass
class RunReport:
    run_epoch: str
    try_number: int
    final: bool = False
    returncode: int | None = None
    error: str | None = None
    nodes: dict[str, dict] = field(default_factory=dict)
    # Test-gated publish (dataops.airflow.publishing), set with ``final``: {"state": "published", "held"
    # or "failed", "message": ...}; None when the DAG publishes directly or dbt could not run.
    publication: dict | None = None
    # The dbt project the run built, as the worker saw it: where a local stack's "dbt docs" are.
    project_dir: str | None = None

    def to_json(self) -> dict:
        """A snapshot: the producer's push serializes it on one thread while dbt's outcomes arrive on another."""
        return {
            "run_epoch": self.run_epoch,
            "try_number": self.try_number,
            "final": self.final,
            "returncode": self.returncode,
            "error": self.error,
            "nodes": dict(self.nodes),
            "publication": self.publication,
            "project_dir": self.project_dir,
        }

    @classmethod
    def from_json(cls, data) -> RunReport | None:
        if not isinstance(data, dict) or "run_epoch" not in data:
            return None
        return cls(
            run_epoch=str(data["run_epoch"]),
            try_number=int(data.get("try_number") or 0),
            final=bool(data.get("final")),
            returncode=data.get("returncode"),
            error=data.get("error"),
            nodes=dict(data.get("nodes") or {}),
            publication=data.get("publication") if isinstance(data.get("publication"), dict) else None,
            project_dir=data.get("project_dir"),
        )
