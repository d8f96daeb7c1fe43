"""One measured run: a DAG run through Airflow, or a bare ``dbt build``.

The Airflow figure is the DAG run's duration as Airflow records it (its
start_date to end_date from the REST API); ``trigger_to_done_s`` is what a
user who triggers the run waits: from the trigger request to the moment the
API shows the run finished (the scheduler's pick-up included, and up to one
poll of 0.2 s). The bare figure is the wall time of the ``dbt build``
process. Both include dbt's start-up, and both build the same project into
the same warehouse.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from memory import PeakRss, find_process, own_cpu_s, tree_cpu_s, with_reaped_cpu_s

from dataops.dbt.project import DbtProject
from dataops.dbt.runner import DbtInvocation, DbtRunner


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss_mb: float
    state: str = "success"
    # CPU seconds the triggerer (its supervisor and trigger runner) spent during the run (Airflow runs only).
    triggerer_cpu_s: float = 0.0
    # CPU seconds of the scheduler process itself (not the task processes its LocalExecutor starts).
    scheduler_cpu_s: float = 0.0
    trigger_to_done_s: float = 0.0
    # The largest PSS sum of the stack during the run, and per component at that moment: (PSS MB, RSS MB).
    peak_pss_mb: float = 0.0
    peak_components: dict[str, tuple[float, float]] = field(default_factory=dict)
    # CPU seconds of the DAG processor and the parsing processes it started and ended during the run.
    dag_processor_cpu_s: float = 0.0


def airflow_run(ws, dag_id: str, timeout_s: float = 3600) -> Measured:
    api = ws.api
    triggerer = find_process(ws.airflow_pids, "triggerer")
    scheduler = find_process(ws.airflow_pids, "scheduler")
    dag_processor = find_process(ws.airflow_pids, "dag-processor")
    cpu_before = tree_cpu_s(triggerer) if triggerer else 0.0
    scheduler_before = own_cpu_s(scheduler) if scheduler else 0.0
    dag_processor_before = with_reaped_cpu_s(dag_processor) if dag_processor else 0.0
    with PeakRss(ws.airflow_pids, interval_s=0.25, pss=True) as memory:
        started = time.monotonic()
        run_id = api.trigger(dag_id)
        info = api.wait_for_run(dag_id, run_id, timeout_s=timeout_s, poll_s=0.2)
        waited = time.monotonic() - started
    cpu = (tree_cpu_s(triggerer) - cpu_before) if triggerer else 0.0
    scheduler_cpu = (own_cpu_s(scheduler) - scheduler_before) if scheduler else 0.0
    dag_processor_cpu = (with_reaped_cpu_s(dag_processor) - dag_processor_before) if dag_processor else 0.0
    if info.state != "success":
        raise RuntimeError(failed_run_report(api, dag_id, run_id, info.state))
    return Measured(
        info.duration_s or 0.0, memory.peak_mb, info.state, cpu, scheduler_cpu, waited,
        memory.peak_pss_mb, memory.peak_components, dag_processor_cpu,
    )


def failed_run_report(api, dag_id: str, run_id: str, state: str, tail_lines: int = 15) -> str:
    """Which tasks failed (not those that only followed a failure), and the end of each one's log."""
    tasks = api.tasks(dag_id, run_id).values()
    failed = sorted(t.task_id for t in tasks if t.state == "failed")
    others = {t.task_id: t.state for t in tasks if t.state not in ("success", "failed")}
    lines = [f"{dag_id} run {run_id} ended {state}: failed {failed[:10]}"
             f"{f' and {len(failed) - 10} more' if len(failed) > 10 else ''}; "
             f"{len(others)} others not successful {dict(list(others.items())[:5])}"]
    for task in [t for t in tasks if t.state == "failed"][:3]:
        try:
            log = api.log(dag_id, run_id, task.task_id, max(task.try_number, 1)).splitlines()
        except Exception as exc:  # noqa: BLE001  (the report is best effort)
            log = [f"(log unreadable: {exc})"]
        lines += [f"--- {task.task_id}, last {tail_lines} log lines:", *log[-tail_lines:]]
    return "\n".join(lines)


def bare_dbt_build(ws, project_dir: Path) -> Measured:
    """``dbt build`` of the whole project as one process, into the workspace's warehouse.

    It keeps one target folder across repetitions, so from the second run on
    dbt reuses its partial parse, as our runs do through their parse cache. It
    builds into a schema of its own: the DAGs' runs publish views into the
    models schema, over which dbt would refuse to build a seed's table.
    """
    settings = ws.settings.model_copy(update={"models_schema": f"bare_{project_dir.name}"})
    project = DbtProject.from_settings(settings, project_dir)
    target = ws.root / "bare" / project_dir.name
    runner = DbtRunner(project)
    stack = ws.airflow_pids if ws.airflow is not None else []
    with PeakRss([os.getpid()], include_roots=False, exclude_pids=stack) as rss:
        started = time.perf_counter()
        run = runner.invoke(DbtInvocation(command="build", target_path=target))
        seconds = time.perf_counter() - started
    run.raise_for_status()
    return Measured(seconds, rss.peak_mb)
