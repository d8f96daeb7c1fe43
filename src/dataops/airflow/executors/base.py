"""Where dbt runs, behind one interface: the worker itself or an ECS task."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

EventHandler = Callable[[dict], None]


@dataclass(frozen=True)
class DbtJob:
    """One dbt invocation for one DAG run (or one task's retry)."""

    dag_id: str
    run_id: str
    task_id: str
    try_number: int
    command: str = "build"
    select: Sequence[str] = ()
    exclude: Sequence[str] = ()
    threads: int | None = None
    # The project as the executor sees it; None means the settings' project.
    project_dir: str | None = None
    extra_args: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class JobResult:
    returncode: int
    # run_results.json as dbt wrote it, when it got that far.
    run_results: dict | None
    errors: tuple[str, ...] = ()
    duration_s: float = 0.0
    where: str = ""
    plain_output: tuple[str, ...] = ()

    def failure_reason(self) -> str:
        from dataops.dbt.events import failure_reason

        return failure_reason(self.errors, self.plain_output)

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0


class DbtExecutor(ABC):
    @abstractmethod
    def run(self, job: DbtJob, on_event: EventHandler) -> JobResult:
        """Run dbt to its end, passing each structured log event to ``on_event``."""

    def cancel(self) -> None:
        """Stop a running job (the task was killed)."""


def executor_for(settings) -> DbtExecutor:
    if settings.dbt_executor == "ecs":
        from dataops.airflow.executors.ecs import EcsDbtExecutor

        return EcsDbtExecutor.from_settings(settings)
    from dataops.airflow.executors.local import LocalDbtExecutor

    return LocalDbtExecutor(settings)
