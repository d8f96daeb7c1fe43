"""The supervisor on plain processes (no servers): restart with backoff, stop by group."""

from __future__ import annotations

import os
import signal
import sys
import time

from dataops.local.services.components import Component
from dataops.local.services.state import StackState, start_ticks
from dataops.local.services.supervisor import Backoff, Supervisor

SLEEPER = (sys.executable, "-c", "import time, subprocess, sys; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); time.sleep(600)")


def _supervisor(tmp_path) -> Supervisor:
    return Supervisor([Component("sleeper", SLEEPER)], dict(os.environ), tmp_path / "logs", tmp_path,
                      tmp_path / "state.json", "http://127.0.0.1:1", stack_id="", stop_timeout_s=5)


def _wait(check, timeout_s=15.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_backoff_grows_and_resets_after_a_healthy_run():
    backoff = Backoff()
    assert [backoff.next_delay(1) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert backoff.next_delay(3600) == 1


def test_a_killed_component_is_restarted_and_logged(tmp_path, caplog):
    supervisor = _supervisor(tmp_path)
    supervisor.start_all()
    try:
        first = supervisor.child("sleeper").process.pid
        os.kill(first, signal.SIGKILL)
        assert _wait(lambda: (supervisor.check_once(), supervisor.child("sleeper").restarts == 1)[1])
        second = supervisor.child("sleeper").process.pid
        assert second != first
        state = StackState.read(tmp_path / "state.json")
        assert state.components["sleeper"].pid == second and state.components["sleeper"].restarts == 1
        assert "restarting sleeper" in caplog.text
        # What the killed leader left in its group was stopped before the restart (an exited member
        # may wait a moment for init to reap it: seen on a loaded run).
        assert _wait(lambda: not _group_alive(first))
    finally:
        supervisor.stop_all()


def test_stop_all_stops_the_whole_group_and_removes_the_state(tmp_path):
    supervisor = _supervisor(tmp_path)
    supervisor.start_all()
    pid = supervisor.child("sleeper").process.pid
    assert _wait(lambda: len(_group_members(pid)) == 2)
    supervisor.stop_all()
    assert start_ticks(pid) is None
    # Nothing of the group runs; an exited member may wait a moment for init to reap it.
    assert _wait(lambda: not _group_alive(pid))
    assert not (tmp_path / "state.json").exists()


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == pgid:
                    members.append(int(entry))
            except ProcessLookupError:
                pass
    return members


def _group_alive(pgid: int) -> bool:
    return bool(_group_members(pgid))
