"""What dbt reported about a run: ``run_results.json`` read into plain objects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# dbt's per-node statuses that mean the node did not do its job.
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    status: str
    execution_time: float
    message: str | None = None
    failures: int | None = None

    @property
    def resource_type(self) -> str:
        return self.unique_id.split(".", 1)[0]

    @property
    def name(self) -> str:
        # unique_id is "<type>.<package>.<name>[.<hash>]"; a model's name may hold dots.
        parts = self.unique_id.split(".")
        if self.resource_type == "test" and len(parts) > 3:
            return ".".join(parts[2:-1])
        return ".".join(parts[2:])

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES


@dataclass(frozen=True)
class RunResults:
    nodes: tuple[NodeResult, ...]
    elapsed_time: float

    @classmethod
    def from_file(cls, path: Path) -> RunResults:
        data = json.loads(Path(path).read_text())
        return cls(
            nodes=tuple(
                NodeResult(
                    unique_id=r["unique_id"],
                    status=str(r["status"]),
                    execution_time=float(r.get("execution_time") or 0.0),
                    message=r.get("message"),
                    failures=r.get("failures"),
                )
                for r in data.get("results", [])
            ),
            elapsed_time=float(data.get("elapsed_time") or 0.0),
        )

    @property
    def failed(self) -> tuple[NodeResult, ...]:
        return tuple(n for n in self.nodes if n.failed)
