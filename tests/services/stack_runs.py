"""What the services stack's tests share: running the DAG, reading its outcome,
finding and killing the stack's processes, changing the project copy."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest

from dataops import paths
from dataops.local.api import AirflowApi
from stack_support import Stack

DAG = "redshift_transformations"
MODELS_SCHEMA = "analytics"
TICKIT_SCHEMA = "tickit"
RUN_TIMEOUT_S = 420


def model_task_ids(project_dir: Path) -> dict[str, str]:
    """Each model's name -> its task id, as the DAG factory names it (dataops.airflow.naming)."""
    from dataops.airflow.naming import task_ids_for
    from dataops.dbt.graph import DbtGraph
    from dataops.dbt.manifest import default_graph_path

    graph = DbtGraph.read(default_graph_path(project_dir))
    ids = task_ids_for(graph.nodes.values())
    return {node.name: ids[uid] for uid, node in graph.nodes.items() if node.resource_type == "model"}


def run_dag(airflow: AirflowApi, timeout_s: float = RUN_TIMEOUT_S) -> tuple[str, str]:
    run_id = airflow.trigger(DAG)
    return run_id, airflow.wait_for_run(DAG, run_id, timeout_s).state


def assert_run_succeeded(airflow: AirflowApi, run_id: str, state: str, model_tasks: list[str]) -> None:
    tasks = airflow.tasks(DAG, run_id)
    assert state == "success", (
        f"run {run_id} ended {state}; tasks: {tasks}\n{airflow.run_logs(DAG, run_id, only_failed=True)[-4000:]}"
    )
    assert tasks, f"run {run_id} has no task instances"
    not_ok = {t.task_id: t.state for t in tasks.values() if t.state != "success"}
    assert not not_ok, f"tasks of {run_id} not successful: {not_ok}"
    missing = sorted(set(model_tasks) - set(tasks))
    assert not missing, f"run {run_id} has no task for these models: {missing}"


def require_baseline(stack: Stack) -> None:
    if not stack.baseline:
        pytest.skip("needs the relations of the first successful run of this file's stack")


def wait_for(check, timeout_s: float, what: str, interval_s: float = 0.1):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")


def task_state(airflow: AirflowApi, run_id: str, task_id: str):
    return airflow.tasks(DAG, run_id).get(task_id)


def dbt_pids(stack_id: str) -> list[int]:
    """dbt processes started by this stack's workers."""
    from dataops.local.services.environment import STACK_ID_VARIABLE
    from dataops.local.services.state import pids_with_marker

    found = []
    for pid in pids_with_marker(STACK_ID_VARIABLE, stack_id):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(part.endswith(b"/dbt") for part in cmdline[:4]):  # dbt, or python -c FAST_EXIT dbt (dataops.dbt.launch)
            found.append(pid)
    return found


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def component_of(stack: Stack, pid: int) -> str:
    """The component whose process started ``pid`` (directly or not)."""
    by_pid = {record.pid: name for name, record in stack.state().components.items()}
    chain, current = [pid], pid
    while current > 1:
        if current in by_pid:
            return by_pid[current]
        current = parent_of(current)
        chain.append(current)
    raise AssertionError(f"pid {pid} descends from no component of the stack (ancestry {chain})")


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                children.setdefault(parent_of(int(entry.name)), []).append(int(entry.name))
            except (OSError, ValueError):
                continue
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def kill_machine(pid: int) -> None:
    """SIGKILLs ``pid`` and everything it started, as if its machine died."""
    for victim in descendants(pid):
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass


@contextmanager
def edited(path: Path, new_text: str) -> Iterator[None]:
    """``path`` holds ``new_text`` inside the block (created if missing), then its old content."""
    old = path.read_text() if path.exists() else None
    path.write_text(new_text)
    try:
        yield
    finally:
        if old is None:
            path.unlink()
        else:
            path.write_text(old)


@contextmanager
def project_changed(stack: Stack, airflow: AirflowApi, path: Path, new_text: str) -> Iterator[None]:
    """The project copy with ``path`` changed, its graph recompiled and the DAG
    parsed again from it. Afterwards the file and the artifacts compiled from it
    are put back as they were (the project is as before, so they are current)
    and the DAG is parsed again."""
    target = stack.project_dir / "target"
    saved = Path(tempfile.mkdtemp(prefix="target-", dir=stack.project_dir.parent))
    shutil.copytree(target, saved, dirs_exist_ok=True)
    try:
        with edited(path, new_text):
            recompile(stack, airflow)
            yield
        shutil.rmtree(target)
        shutil.copytree(saved, target)
        wait_for_new_parse(airflow, datetime.now(timezone.utc))
    finally:
        shutil.rmtree(saved, ignore_errors=True)


def recompile(stack: Stack, airflow: AirflowApi) -> None:
    """Recompiles the project copy and waits for a clean parse of the DAG made after it."""
    from dataops.local.services.provision import compile_dbt_project

    compile_dbt_project(stack.settings())
    wait_for_new_parse(airflow, datetime.now(timezone.utc))


def wait_for_new_parse(airflow: AirflowApi, since: datetime) -> None:
    """Waits for a clean parse of the DAG after ``since`` (its graph changed)."""
    # The DAG file is unchanged, only its graph is new: mark the file changed so the DAG
    # processor parses it at once rather than at its min_file_process_interval.
    (paths.dags_dir() / f"{DAG}.py").touch()

    def parsed_cleanly_since():
        try:
            dag = airflow.dags.get_dag(DAG)
        except Exception:
            return False
        return not dag.has_import_errors and not dag.is_stale and dag.last_parsed_time is not None and dag.last_parsed_time > since

    wait_for(parsed_cleanly_since, 180, f"{DAG} to be parsed again after its graph changed", interval_s=2)
