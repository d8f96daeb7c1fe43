"""Where dbt runs, behind one interface: the worker itself or an ECS task."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

from dataops.dbt.profile import DbtProfile
from dataops.dbt.runner import DbtInvocation

EventHandler = Callable[[dict], None]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_name(value: str) -> str:
    """``value`` as one folder name or S3 key segment (a run id holds ``:`` and ``+``)."""
    return _UNSAFE.sub("_", value)


@dataclass(frozen=True)
class TaskTry:
    """The Airflow task try a dbt job runs for: it names the job's artifacts and its ECS task."""

    dag_id: str
    run_id: str
    task_id: str
    try_number: int
    # dbt runs again within the same try (nodes retried after a dropped connection): 1, 2...
    rerun: int = 0

    @classmethod
    def of(cls, ti) -> TaskTry:
        return cls(ti.dag_id, ti.run_id, ti.task_id, ti.try_number)

    def path_parts(self) -> tuple[str, str, str]:
        """``<dag>/<run>/<task>.<try>[.rerun<n>]``, each part safe for a path or an S3 key."""
        last = f"{safe_name(self.task_id)}.{self.try_number}" + (f".rerun{self.rerun}" if self.rerun else "")
        return safe_name(self.dag_id), safe_name(self.run_id), last

    def describe(self) -> str:
        return f"try {self.try_number}" + (f" (rerun {self.rerun})" if self.rerun else "")


@dataclass(frozen=True)
class BundleRef:
    """The published bundle version a task try reads, and the store it is in.

    A task of a DAG from ``dataops.airflow.bundle.PublishedDagBundle`` runs
    with its run's version on the worker (``ti.bundle_instance``); an
    executor that runs dbt elsewhere (ECS) fetches that same version.
    """

    version: str
    store: str

    @classmethod
    def of(cls, ti) -> BundleRef | None:
        bundle = getattr(ti, "bundle_instance", None)
        version, store = getattr(bundle, "version", None), getattr(bundle, "store_location", None)
        return cls(version, store) if version and store else None


@dataclass(frozen=True)
class DbtJob:
    """One dbt invocation for one task try, on a project with a profile.

    ``project_dir`` is the project as the executor sees it (None: the
    settings'); ``profile`` is what the DAG asked for, completed by the
    settings and the project where dbt runs; ``bundle`` the published
    version the project comes from, if any. The executor picks the
    invocation's ``target_path``.
    """

    task: TaskTry
    invocation: DbtInvocation = field(default_factory=DbtInvocation)
    project_dir: str | None = None
    profile: DbtProfile = field(default_factory=DbtProfile)
    bundle: BundleRef | None = None
    # The schema dbt builds into instead of the settings' (the run's place: dataops.wap), or None.
    models_schema: str | None = None


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
