"""The embedded stack's processes: Airflow's four components in one process group, each with its own log.

Stand-ins play the components (what each one runs is Airflow's own; the
end-to-end tests run the real ones): the stack's part is starting them,
noticing one end, naming it, and stopping all of them.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

from dataops.config import load_settings
from dataops.errors import DataOpsError
from dataops.local import embedded, processes
from dataops.local.airflow_home import AirflowHome

SLEEPS = ("-c", "import time; time.sleep(120)")
# Answers the health check with 200, as the API server does once it is up.
SERVES = (
    "-c",
    "import http.server, sys\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        self.send_response(200); self.end_headers(); self.wfile.write(b'{}')\n"
    "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n",
)


@pytest.fixture
def stack(tmp_path, monkeypatch):
    monkeypatch.setattr(embedded, "airflow_argv", lambda *args: [sys.executable, *args])
    monkeypatch.setattr(AirflowHome, "migrate", lambda self: None)
    home = AirflowHome.for_settings(load_settings(state_dir=tmp_path / "state"), api_port=processes.free_port())
    stack = embedded.EmbeddedStack(home)
    yield stack
    stack.stop()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_components_run_in_one_group_each_logging_to_its_own_file_and_stop_together(stack, monkeypatch):
    monkeypatch.setattr(embedded, "components", lambda port: {
        "api-server": (*SERVES, str(port)), "scheduler": SLEEPS, "dag-processor": SLEEPS, "triggerer": SLEEPS,
    })
    stack.start(timeout_s=60)
    pids = stack.pids
    assert len(pids) == 4 and len({os.getpgid(pid) for pid in pids}) == 1
    assert {path.name for path in stack.log_dir.iterdir()} >= {
        "api-server.log", "scheduler.log", "dag-processor.log", "triggerer.log"}
    assert stack.exited() is None
    stack.stop()
    assert not any(_alive(pid) for pid in pids)


def test_a_component_that_ends_is_named_with_its_exit_code_and_log(stack, monkeypatch):
    monkeypatch.setattr(embedded, "components", lambda port: {
        "api-server": (*SERVES, str(port)), "scheduler": SLEEPS, "dag-processor": SLEEPS,
        "triggerer": ("-c", "import time, sys; time.sleep(2); sys.exit(3)"),
    })
    stack.start(timeout_s=60)
    assert stack.wait() == ("triggerer", 3)


def test_a_component_ending_during_start_up_stops_the_others_and_says_which(stack, monkeypatch):
    monkeypatch.setattr(embedded, "components", lambda port: {
        "api-server": SLEEPS, "scheduler": ("-c", "import sys; print('no database'); sys.exit(2)"),
        "dag-processor": SLEEPS, "triggerer": SLEEPS,
    })
    with pytest.raises(DataOpsError) as raised:
        stack.start(timeout_s=60)
    assert "scheduler exited with code 2" in str(raised.value)
    assert str(stack.log_file("scheduler")) in str(raised.value)
    assert "no database" in stack.log_file("scheduler").read_text()
    assert stack.processes == {}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_dataops_up_stops_every_component_when_it_is_told_to_stop_or_its_terminal_closes(sig, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from dataops.cli import main
    from dataops.cli import platform

    started: list = []
    start = processes.start

    def recording_start(*args, **kwargs):
        started.append(start(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(embedded, "airflow_argv", lambda *args: [sys.executable, *args])
    monkeypatch.setattr(embedded, "components", lambda port: {
        "api-server": (*SERVES, str(port)), "scheduler": SLEEPS, "dag-processor": SLEEPS, "triggerer": SLEEPS,
    })
    monkeypatch.setattr(processes, "start", recording_start)
    monkeypatch.setattr(AirflowHome, "migrate", lambda self: None)
    monkeypatch.setattr(platform, "_print_dags", lambda *args, **kwargs: None)
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(tmp_path / "state"))
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    # Once the stack is up: the signal comes while `dataops up` waits on its components.
    sender = threading.Thread(target=lambda: _signal_when_up(started, sig), daemon=True)
    sender.start()
    try:
        result = CliRunner().invoke(main, ["up", "--port", str(processes.free_port())])
    finally:
        for s, handler in handlers.items():
            signal.signal(s, handler)
    assert "Airflow is up" in result.output and result.output.rstrip().endswith("Stopped."), result.output
    assert len(started) == 4 and not any(_alive(proc.pid) for proc in started)


def _signal_when_up(started: list, sig: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (len(started) == 4 and _record_written(started)):
        time.sleep(0.1)
    os.kill(os.getpid(), sig)


def _record_written(started: list) -> bool:
    """`dataops up` has written that the stack runs (after the health check answered)."""
    from pathlib import Path

    state = Path(os.environ["DATAOPS_STATE_DIR"]) / "airflow" / "running.json"
    return state.is_file()
