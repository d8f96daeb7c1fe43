"""What the operators that run dbt share: one dbt job for one task try.

The job runs where the settings say (``DATAOPS_DBT_EXECUTOR``), and each
of dbt's events goes through an :class:`~dataops.dbt.events.OutcomeTracker`,
so every node's outcome is known as soon as dbt decides it. Killing the task
stops dbt.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException

from dataops.dbt.profile import DbtProfile

if TYPE_CHECKING:
    from dataops.airflow.executors.base import JobResult
    from dataops.dbt.events import TaskOutcome
    from dataops.dbt.runner import DbtInvocation


@dataclass(frozen=True)
class TrackedJob:
    """A finished dbt job and the outcomes of the nodes it was expected to report."""

    result: JobResult
    outcomes: dict[str, TaskOutcome]
    expected: frozenset[str]

    @property
    def missing(self) -> frozenset[str]:
        return self.expected - self.outcomes.keys()

    @property
    def failed(self) -> list[str]:
        return sorted(uid for uid, outcome in self.outcomes.items() if outcome.state == "failed")


class DbtJobOperator(BaseOperator):
    """Base of the operators that run dbt: the project, its profile and graph artifact."""

    def __init__(
        self,
        *,
        project_dir: str | None = None,
        graph_path: str | None = None,
        profile: DbtProfile | None = None,
        publish: str = "direct",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.project_dir = project_dir
        self.graph_path = graph_path
        self.profile = profile or DbtProfile()
        # How the run's models reach production (DbtDag resolves "auto"): dataops.airflow.publishing.
        self.publish = publish

    def run_dbt(
        self,
        ti,
        invocation: DbtInvocation,
        expected: Collection[str],
        on_outcome: Callable[[TaskOutcome], None] | None = None,
        rerun: int = 0,
        models_schema: str | None = None,
    ) -> TrackedJob:
        """Run ``invocation`` for this task try (its ``rerun``-th run again within the try); each
        outcome of ``expected`` nodes goes to ``on_outcome`` when it becomes final, also when the
        job fails to run. ``models_schema`` is the run's place (test-gated publish), or None."""
        from dataops.airflow.executors.base import BundleRef, DbtJob, TaskTry, executor_for
        from dataops.airflow.runtime import load_graph_for_task, runtime_settings
        from dataops.dbt.events import OutcomeTracker

        settings = runtime_settings()
        tracker = OutcomeTracker(load_graph_for_task(self.graph_path, self.project_dir), expected=set(expected))
        task = TaskTry.of(ti)
        task = TaskTry(task.dag_id, task.run_id, task.task_id, task.try_number, rerun)
        job = DbtJob(task, invocation, self.project_dir, self.profile, BundleRef.of(ti), models_schema)
        report = on_outcome or (lambda outcome: None)

        def on_event(event: dict) -> None:
            for outcome in tracker.feed(event):
                report(outcome)

        self._executor = executor_for(settings)
        result = None
        try:
            result = self._executor.run(job, on_event)
        finally:
            for outcome in tracker.finish(result.run_results if result else None):
                report(outcome)
        return TrackedJob(result, dict(tracker.outcomes), frozenset(expected))

    def run_publish(self, context, unique_ids, claim: bool = False):
        """The run's place (claimed first by the run's build) and relations for ``unique_ids`` (None when
        the DAG publishes directly); an AirflowException saying why when there is none, or naming the model
        that cannot build in a place of its own."""
        if self.publish == "direct":
            return None
        from dataops.airflow.publishing import RunPublish
        from dataops.airflow.runtime import load_graph_for_task
        from dataops.errors import DataOpsError

        graph = load_graph_for_task(self.graph_path, self.project_dir)
        try:
            run = RunPublish.of(context["ti"], context["dag_run"], graph, unique_ids, claim)
            run.items()  # refuses a model that would build outside the run's place
            return run
        except DataOpsError as exc:
            raise AirflowException(str(exc)) from None

    def on_kill(self) -> None:
        executor = getattr(self, "_executor", None)
        if executor is not None:
            executor.cancel()
