"""An operator that runs one dbt command (``dbt build`` by default)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException


class DbtBuildOperator(BaseOperator):
    """Runs ``dbt <command>`` on the configured project and warehouse.

    Settings (target, project, dbt executable) are read when the task runs,
    never when the DAG file is parsed. Each run writes its artifacts to a
    directory of its own under the platform's state directory.
    """

    template_fields: Sequence[str] = ("select", "exclude")
    ui_color = "#ff694b"

    def __init__(
        self,
        *,
        command: str = "build",
        select: Sequence[str] = (),
        exclude: Sequence[str] = (),
        project_dir: str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.command = command
        self.select = list(select)
        self.exclude = list(exclude)
        self.project_dir = project_dir

    def execute(self, context):
        # Imported here so that parsing the DAG file stays fast.
        from dataops.config import load_settings
        from dataops.dbt import DbtInvocation, DbtProject, DbtRunner
        from dataops.dbt.runner import describe_failure
        from dataops.errors import DataOpsError

        try:
            settings = load_settings()
            project = DbtProject.from_settings(settings, Path(self.project_dir) if self.project_dir else None)
        except DataOpsError as exc:
            raise AirflowException(str(exc)) from None
        run_dir = run_artifacts_dir(settings.state_dir, context["dag"].dag_id, context["run_id"], self.task_id)
        run = DbtRunner(project).invoke(
            DbtInvocation(command=self.command, select=self.select, exclude=self.exclude, target_path=run_dir)
        )
        if not run.succeeded:
            raise AirflowException(describe_failure(run))
        self.log.info("dbt %s finished in %.1fs; artifacts in %s", self.command, run.duration_s, run_dir)
        return {"target_path": str(run_dir), "duration_s": run.duration_s}


def run_artifacts_dir(state_dir: Path, dag_id: str, run_id: str, task_id: str) -> Path:
    safe = lambda s: re.sub(r"[^A-Za-z0-9_.-]+", "_", s)  # noqa: E731
    return state_dir / "runs" / safe(dag_id) / safe(run_id) / safe(task_id)
