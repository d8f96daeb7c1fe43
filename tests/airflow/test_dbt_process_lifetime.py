"""No dbt of a task try outlives it or overlaps the next try (issue 18).

A stand-in ``dbt`` (a small script) records its pid, start and end in a
folder and sleeps; the local executor's dbt path runs in a child process,
as in a task process, and is killed the ways a worker can be.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dataops.airflow.executors.base import DbtJob, TaskTry
from dataops.airflow.executors.local import LocalDbtExecutor, read_record
from dataops.config import load_settings
from dataops.process_groups import group_alive, start_time

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and /proc are Linux's")

# Writes <log dir>/<pid>.json with its start (and end, when it ends or is stopped), sleeps FAKE_DBT_SLEEP s.
FAKE_DBT = f"""#!{sys.executable}
import json, os, signal, sys, time
folder = os.environ["FAKE_DBT_LOG"]
record = {{"pid": os.getpid(), "start": time.time(), "args": sys.argv[1:]}}
def write():
    with open(os.path.join(folder, f"{{os.getpid()}}.json.tmp"), "w") as f:
        json.dump(record, f)
    os.replace(os.path.join(folder, f"{{os.getpid()}}.json.tmp"), os.path.join(folder, f"{{os.getpid()}}.json"))
def end(signum, frame):
    record["end"], record["signal"] = time.time(), signum
    write()
    os._exit(143)
signal.signal(signal.SIGTERM, end)
write()
print("fake dbt started", flush=True)
time.sleep(float(os.environ.get("FAKE_DBT_SLEEP", "60")))
record["end"] = time.time()
write()
target = sys.argv[sys.argv.index("--target-path") + 1]
with open(os.path.join(target, "run_results.json"), "w") as f:
    json.dump({{"results": [], "elapsed_time": 0}}, f)
"""

# Runs one try of task "dbt_build" with the local executor, as a task process would.
TRY = """
import sys
from dataops.airflow.executors.base import DbtJob, TaskTry
from dataops.airflow.executors.local import LocalDbtExecutor
from dataops.config import load_settings
settings = load_settings(dbt_bin=sys.argv[1], state_dir=sys.argv[2], dbt_project_dir=sys.argv[3])
result = LocalDbtExecutor(settings).run(DbtJob(TaskTry("d", "r", "dbt_build", int(sys.argv[4]))), lambda e: None)
print("returncode", result.returncode, flush=True)
"""

# A stand-in for Airflow's supervisor: starts the task process in a process group of its own, then waits.
SUPERVISOR = """
import os, subprocess, sys, time
task = subprocess.Popen([sys.executable, "-c", sys.argv[1], *sys.argv[2:]], process_group=0)
print(task.pid, flush=True)
time.sleep(600)
"""


@pytest.fixture
def env(tmp_path, monkeypatch):
    dbt = tmp_path / "dbt"
    dbt.write_text(FAKE_DBT)
    dbt.chmod(0o755)
    logs = tmp_path / "dbt-processes"
    logs.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    (project / "dbt_project.yml").write_text("name: fake\nprofile: fake\n")
    monkeypatch.setenv("FAKE_DBT_LOG", str(logs))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(Path(__file__).parents[2] / "src"), os.environ.get("PYTHONPATH")])))
    started: list[subprocess.Popen] = []

    class Env:
        args = [str(dbt), str(tmp_path / "state"), str(project)]
        settings = load_settings(dbt_bin=dbt, state_dir=tmp_path / "state", dbt_project_dir=project)

        @staticmethod
        def spawn(code: str, *args: str, **kwargs) -> subprocess.Popen:
            proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True, **kwargs)
            started.append(proc)
            return proc

        @staticmethod
        def dbts() -> list[dict]:
            return [json.loads(p.read_text()) for p in sorted(logs.glob("*.json"))]

        @staticmethod
        def wait_for_dbts(n: int) -> list[dict]:
            assert _wait(lambda: len(Env.dbts()) >= n), Env.dbts()
            return Env.dbts()

    yield Env
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL) if os.getpgid(proc.pid) == proc.pid else proc.kill()
            proc.wait()
    for record in Env.dbts():  # whatever a failed test left running
        if group_alive(record["pid"]):
            os.killpg(record["pid"], signal.SIGKILL)


def _wait(check, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for PID 1 to reap it)."""
    return start_time(pid) is not None and group_alive(pid)


def test_dbt_dies_when_its_task_process_is_killed(env):
    task = env.spawn(TRY, *env.args, "1")
    (dbt,) = env.wait_for_dbts(1)
    assert _running(dbt["pid"]) and os.getpgid(dbt["pid"]) == dbt["pid"], "dbt leads a process group of its own"
    task.send_signal(signal.SIGKILL)
    task.wait()
    assert _wait(lambda: not _running(dbt["pid"]), 10), "dbt outlived its task process"
    assert env.dbts()[0]["signal"] == signal.SIGTERM


def test_an_orphaned_task_process_stops_its_dbt(env):
    """The services stack's fault: the worker's process group is killed, the task process (in a group
    of its own) is left without its supervisor; its dbt stops within seconds, not at the retry."""
    supervisor = env.spawn(SUPERVISOR, TRY, *env.args, "1")
    task_pid = int(supervisor.stdout.readline())
    (dbt,) = env.wait_for_dbts(1)
    supervisor.kill()
    supervisor.wait()
    assert _wait(lambda: not _running(dbt["pid"]), 10), "dbt outlived the task's supervisor"
    assert _wait(lambda: not _running(task_pid), 10), "the orphaned task process did not end"


def test_a_retry_stops_the_earlier_trys_dbt_before_starting_its_own(env, caplog, monkeypatch):
    # Try 1's task process lives on (orphaned, stuck): only the record tells the retry about its dbt.
    first = env.spawn(TRY, *env.args, "1", start_new_session=True)
    (earlier,) = env.wait_for_dbts(1)
    record = read_record(LocalDbtExecutor(env.settings).process_record(TaskTry("d", "r", "dbt_build", 1)))
    assert record["pid"] == earlier["pid"] and record["try_number"] == 1

    monkeypatch.setenv("FAKE_DBT_SLEEP", "0.2")
    with caplog.at_level(logging.WARNING, logger="dataops.airflow.executors.local"):
        result = LocalDbtExecutor(env.settings).run(DbtJob(TaskTry("d", "r", "dbt_build", 2)), lambda e: None)
    assert result.returncode == 0
    first.wait(10)  # try 1's reader saw its dbt end

    earlier, later = sorted(env.dbts(), key=lambda r: r["start"])
    assert earlier["signal"] == signal.SIGTERM and earlier["end"] < later["start"], (earlier, later)
    assert not _running(earlier["pid"])
    said = caplog.text
    assert f"the dbt of try 1 (pid {earlier['pid']}" in said and "still running" in said
    assert "stopped the dbt of try 1" in said
    assert not LocalDbtExecutor(env.settings).process_record(TaskTry("d", "r", "dbt_build", 2)).exists()


def test_a_retry_after_the_earlier_dbt_ended_starts_at_once(env, caplog, monkeypatch):
    monkeypatch.setenv("FAKE_DBT_SLEEP", "0")
    executor = LocalDbtExecutor(env.settings)
    record = executor.process_record(TaskTry("d", "r", "dbt_build", 1))
    record.parent.mkdir(parents=True)
    # A record left by a killed try whose pid now belongs to another process (ours, started later).
    record.write_text(json.dumps({"pid": os.getpid(), "start_time": start_time(os.getpid()) - 1,
                                  "host": os.uname().nodename, "try_number": 1}))
    with caplog.at_level(logging.WARNING, logger="dataops.airflow.executors.local"):
        assert executor.run(DbtJob(TaskTry("d", "r", "dbt_build", 2)), lambda e: None).returncode == 0
    assert "still running" not in caplog.text
