"""dbt as a subprocess of the Airflow worker, from the dbt environment."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

from dataops.airflow.executors.base import DbtExecutor, DbtJob, EventHandler, JobResult
from dataops.dbt.project import DbtProject
from dataops.dbt.runner import DbtRunner


_PARTIAL_PARSE = "partial_parse.msgpack"


class LocalDbtExecutor(DbtExecutor):
    def __init__(self, settings):
        self.settings = settings

    def target_path(self, job: DbtJob) -> Path:
        return self.settings.state_dir / "runs" / Path(*job.task.path_parts())

    def run(self, job: DbtJob, on_event: EventHandler) -> JobResult:
        project_dir = Path(job.project_dir) if job.project_dir else None
        project = DbtProject.from_settings(self.settings, project_dir, job.profile)
        target = self.target_path(job)
        cache = self._parse_cache(project)
        _copy_if_present(cache, target / _PARTIAL_PARSE)
        run = DbtRunner(project).invoke(replace(job.invocation, target_path=target), on_event=on_event)
        _copy_if_present(target / _PARTIAL_PARSE, cache)
        results_file = target / "run_results.json"
        run_results = json.loads(results_file.read_text()) if results_file.is_file() else None
        return JobResult(
            run.returncode, run_results, run.errors, run.duration_s, where=str(target), plain_output=run.plain_output
        )

    def _parse_cache(self, project: DbtProject) -> Path:
        """dbt's partial-parse file for this project, profile and settings, shared by runs.

        Every run writes to a target directory of its own; without this each
        would parse the whole project again (the project's own target/ is
        compiled with another profile, which dbt treats as a change).
        """
        identity = repr((str(project.project_dir), project.profile, sorted(project.env.items())))
        key = hashlib.blake2b(identity.encode(), digest_size=8)
        return self.settings.state_dir / "dbt-parse-cache" / key.hexdigest() / _PARTIAL_PARSE


def _copy_if_present(source: Path, dest: Path) -> None:
    if not source.is_file():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")
    shutil.copy2(source, tmp)
    tmp.replace(dest)
