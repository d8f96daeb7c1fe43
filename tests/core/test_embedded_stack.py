"""The embedded stack's processes: Airflow's four components in one process group, each with its own log.

Stand-ins play the components (what each one runs is Airflow's own; the
end-to-end tests run the real ones): the stack's part is starting them,
noticing one end, naming it, and stopping all of them.
"""

from __future__ import annotations

import os
import sys

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
    monkeypatch.setattr(embedded, "_airflow", lambda *args: [sys.executable, *args])
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
