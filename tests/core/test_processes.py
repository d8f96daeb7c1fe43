"""Stopping a process group: what the embedded stack, the supervisor and
`dataops down` all do with ``processes.stop``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from dataops.local import processes

# Starts a grandchild in the same group, says so, then lives on (or exits at once with "orphan").
PARENT = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print("started", flush=True)
if sys.argv[1] != "orphan":
    time.sleep(600)
"""
STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('started', flush=True); time.sleep(600)"


@pytest.fixture
def start(tmp_path):
    """Starts a group as the platform does; whatever a failed test leaves of it is killed."""
    started: list[int] = []

    def start_group(code: str, *args: str) -> subprocess.Popen:
        log = tmp_path / f"{len(started)}.log"
        process = processes.start([sys.executable, "-c", code, *args], dict(os.environ), log)
        started.append(process.pid)
        assert _wait(lambda: "started" in log.read_text()), log.read_text()
        return process

    yield start_group
    for pgid in started:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _wait(check, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def _members(pgid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == pgid:
                    found.append(int(entry))
            except ProcessLookupError:
                pass
    return found


def test_the_whole_group_stops_and_the_leader_keeps_its_exit_code(start):
    leader = start(PARENT, "stay")
    assert _wait(lambda: len(_members(leader.pid)) == 2)
    processes.stop(leader, timeout_s=10)
    assert leader.returncode == -signal.SIGTERM
    assert _wait(lambda: not _members(leader.pid))


def test_what_an_exited_leader_left_in_its_group_is_stopped(start):
    leader = start(PARENT, "orphan")
    leader.wait(10)
    assert _wait(lambda: len(_members(leader.pid)) == 1)
    processes.stop(leader.pid, timeout_s=10)
    assert _wait(lambda: not _members(leader.pid))


def test_a_group_ignoring_sigterm_is_killed_after_the_timeout(start):
    leader = start(STUBBORN)
    started = time.monotonic()
    processes.stop(leader, timeout_s=1)
    assert 1 <= time.monotonic() - started < 30  # waited the timeout, and not for the group to give up
    assert leader.wait(5) == -signal.SIGKILL
    assert not _members(leader.pid)


def test_stopping_a_group_that_is_gone_does_nothing(start):
    leader = start(PARENT, "stay")
    processes.stop(leader)
    processes.stop(leader)
    processes.stop(leader.pid)
