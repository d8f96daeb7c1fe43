"""dbt as a subprocess of the Airflow worker, from the dbt environment.

No build of a task may outlive its try or overlap the next one:

- dbt dies with the task process (``PR_SET_PDEATHSIG``, see
  dataops.dbt.runner), runs in a process group of its own that the task
  stops when it is killed (``cancel``), and is stopped as soon as the task
  process loses its Airflow supervisor (a worker killed with its process
  group leaves the task process running on, orphaned);
- each try records its dbt (pid and start time) in the run's folder,
  ``<state_dir>/runs/<dag>/<run>/<task>.dbt-process.json``, and a later try
  of the same task stops a dbt still running from an earlier one, and waits
  for it to be gone, before it starts its own.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from dataops.airflow.executors.base import DbtExecutor, DbtJob, EventHandler, JobResult, TaskTry, safe_name
from dataops.dbt.project import DbtProject
from dataops.dbt.runner import STOP_TIMEOUT_S, DbtRunner
from dataops.process_groups import group_alive, start_time, stop

log = logging.getLogger(__name__)

_PARTIAL_PARSE = "partial_parse.msgpack"
# How often a running build checks that the task process still has its supervisor.
_PARENT_CHECK_S = 1.0


class LocalDbtExecutor(DbtExecutor):
    def __init__(self, settings):
        self.settings = settings
        self._proc: subprocess.Popen | None = None
        self._cancelled = threading.Event()

    def target_path(self, job: DbtJob) -> Path:
        return self.settings.state_dir / "runs" / Path(*job.task.path_parts())

    def process_record(self, task: TaskTry) -> Path:
        """Where the dbt process of the task's latest try is recorded (one file for all its tries)."""
        dag, run, _ = task.path_parts()
        return self.settings.state_dir / "runs" / dag / run / f"{safe_name(task.task_id)}.dbt-process.json"

    def run(self, job: DbtJob, on_event: EventHandler) -> JobResult:
        project_dir = Path(job.project_dir) if job.project_dir else None
        settings = self.settings.model_copy(update={"models_schema": job.models_schema}) if job.models_schema else self.settings
        project = DbtProject.from_settings(settings, project_dir, job.profile)
        target = self.target_path(job)
        record = self.process_record(job.task)
        stop_earlier_dbt(record, job.task)
        if self._cancelled.is_set():
            return JobResult(-1, None, ("the Airflow task was stopped before dbt started",), where=str(target))
        cache = self._parse_cache(project)
        _copy_if_present(cache, target / _PARTIAL_PARSE)
        watcher = _SupervisorWatch()

        def on_start(proc: subprocess.Popen) -> None:
            self._proc = proc
            write_record(record, proc, job.task)
            if self._cancelled.is_set():  # stopped while dbt was starting
                self.cancel()
            watcher.start(proc)

        try:
            run = DbtRunner(project).invoke(
                replace(job.invocation, target_path=target), on_event=on_event, on_start=on_start
            )
        finally:
            watcher.stop()
            if self._proc is not None:
                clear_record(record, self._proc.pid)
            self._proc = None
        _copy_if_present(target / _PARTIAL_PARSE, cache)
        results_file = target / "run_results.json"
        run_results = json.loads(results_file.read_text()) if results_file.is_file() else None
        return JobResult(
            run.returncode, run_results, run.errors, run.duration_s, where=str(target), plain_output=run.plain_output
        )

    def cancel(self) -> None:
        """The task is being stopped (Airflow's SIGTERM): stop dbt's group, SIGKILL after a grace period.

        Runs in a signal handler, so it only starts the stopping; the build's
        reader sees dbt's output end and returns.
        """
        self._cancelled.set()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            log.warning("the task is being stopped: stopping dbt (pid %d)", proc.pid)
            threading.Thread(target=stop, args=(proc, STOP_TIMEOUT_S), name="dbt-stop", daemon=True).start()

    def _parse_cache(self, project: DbtProject) -> Path:
        """dbt's partial-parse file for this project, profile and settings, shared by runs.

        Every run writes to a target directory of its own; without this each
        would parse the whole project again (the project's own target/ is
        compiled with another profile, which dbt treats as a change).
        """
        identity = repr((str(project.project_dir), project.profile, sorted(project.env.items())))
        key = hashlib.blake2b(identity.encode(), digest_size=8)
        return self.settings.state_dir / "dbt-parse-cache" / key.hexdigest() / _PARTIAL_PARSE


class _SupervisorWatch:
    """Stops dbt when the task process's parent (Airflow's supervisor) goes away.

    Airflow runs a task in a process group of its own under a supervisor
    (the Celery worker's process); when the worker's group is killed, the
    task process is left running, orphaned, with nobody to report to, and
    its dbt would build on beside the retry's.
    """

    def __init__(self):
        self.parent = os.getppid()
        self.done = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, proc: subprocess.Popen) -> None:
        self.thread = threading.Thread(target=self._watch, args=(proc,), name="dbt-supervisor-watch", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.done.set()

    def _watch(self, proc: subprocess.Popen) -> None:
        while not self.done.wait(_PARENT_CHECK_S):
            if os.getppid() != self.parent:
                log.error(
                    "the process supervising this task (pid %d) is gone: stopping dbt (pid %d); "
                    "the task's retry builds what is left", self.parent, proc.pid,
                )
                stop(proc, STOP_TIMEOUT_S)
                return


def write_record(path: Path, proc: subprocess.Popen, task: TaskTry) -> None:
    data = {
        "pid": proc.pid,
        "start_time": start_time(proc.pid),
        "host": socket.gethostname(),
        "try_number": task.try_number,
        "rerun": task.rerun,
        "started_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def read_record(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("pid"), int) else None


def clear_record(path: Path, pid: int) -> None:
    """Forget our dbt once it has ended, unless a later try recorded its own meanwhile."""
    data = read_record(path)
    if data is not None and data["pid"] == pid and data.get("host") == socket.gethostname():
        path.unlink(missing_ok=True)


def stop_earlier_dbt(record: Path, task: TaskTry, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
    """Stop the dbt an earlier try of ``task`` left running, and wait until it is gone.

    Returns the pid stopped, if any. A pid is only trusted with its start
    time (a pid is reused once its process is gone) and dbt leads its own
    process group, so the whole build is stopped.
    """
    data = read_record(record)
    if data is None:
        return None
    pid, host = data["pid"], data.get("host")
    earlier = f"try {data.get('try_number')}" + (f" (rerun {data['rerun']})" if data.get("rerun") else "")
    if host != socket.gethostname():
        log.warning(
            "the dbt of %s ran on %s (pid %d), not here: it cannot be checked from this host "
            "(it stops by itself when its task process dies)", earlier, host, pid,
        )
        return None
    if start_time(pid) != data.get("start_time") or not group_alive(pid):
        return None
    log.warning(
        "the dbt of %s (pid %d, started %s) is still running: stopping it before %s starts dbt",
        earlier, pid, data.get("started_at"), task.describe(),
    )
    started = time.monotonic()
    stop(pid, timeout_s)
    log.warning("stopped the dbt of %s (pid %d) in %.1fs; %s starts its own", earlier, pid,
                time.monotonic() - started, task.describe())
    return pid


def _copy_if_present(source: Path, dest: Path) -> None:
    if not source.is_file():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")
    shutil.copy2(source, tmp)
    tmp.replace(dest)
