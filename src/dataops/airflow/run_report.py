"""What the ``dbt_build`` task tells the model tasks of its DAG run.

The producer publishes one XCom (``dbt_results``), rewritten as dbt reports
nodes: which clear of the run it belongs to, whether dbt has exited, and the
final outcome of each task node. XCom travels through Airflow's own API, so
this works the same with the LocalExecutor, Celery workers on other hosts,
and ECS. Model tasks only trust a report whose ``clear_number`` is their DAG
run's current one: after a task is cleared, an older report is history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RESULTS_KEY = "dbt_results"
TERMINAL_TASK_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
NOT_BUILT_STATES = frozenset({"failed", "skipped", "upstream_failed"})


@dataclass
class RunReport:
    clear_number: int
    try_number: int
    final: bool = False
    returncode: int | None = None
    error: str | None = None
    nodes: dict[str, dict] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "clear_number": self.clear_number,
            "try_number": self.try_number,
            "final": self.final,
            "returncode": self.returncode,
            "error": self.error,
            "nodes": self.nodes,
        }

    @classmethod
    def from_json(cls, data) -> RunReport | None:
        if not isinstance(data, dict) or "clear_number" not in data:
            return None
        return cls(
            clear_number=int(data["clear_number"]),
            try_number=int(data.get("try_number") or 0),
            final=bool(data.get("final")),
            returncode=data.get("returncode"),
            error=data.get("error"),
            nodes=dict(data.get("nodes") or {}),
        )
