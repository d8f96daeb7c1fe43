"""Stopping a process group, and tying a child process's life to ours.

The platform's one process-group killer (``stop``), used by the local stacks
(dataops.local.processes re-exports it) and by the dbt executor, which runs
dbt in a group of its own so that a task can stop every process of a build.
It lives here, below both layers, because dataops.airflow may not import
dataops.local.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def stop(leader: int | subprocess.Popen, timeout_s: float = 20.0) -> None:
    """SIGTERM the process group ``leader`` leads, then SIGKILL what is left of it after ``timeout_s``.

    Every process ``start`` makes leads a group of its own (a new session), so
    the group's id is the leader's pid, and Linux never gives a living group's
    id to a new process: while any member lives, the group is still the one we
    started. A leader that is our child is reaped as it exits (as a zombie it
    would keep the group alive); given as a ``Popen``, it keeps its exit code.
    Returns when no process of the group is left.
    """
    pgid = leader.pid if isinstance(leader, subprocess.Popen) else leader
    if _gone(leader, pgid):
        return
    signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _gone(leader, pgid):
            return
        time.sleep(0.1)
    signal_group(pgid, signal.SIGKILL)
    # SIGKILL cannot be refused; wait for the kernel to take the group down.
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        if _gone(leader, pgid):
            return
        time.sleep(0.05)


def _gone(leader: int | subprocess.Popen, pgid: int) -> bool:
    """Whether no process of the group runs, the leader reaped if it is our child.

    Reaped again once the group is seen gone: the leader may have exited (a
    zombie, which ``group_alive`` does not count) between the first reap and
    the check, and a ``Popen`` leader must keep its exit code.
    """
    _reap(leader)
    if group_alive(pgid):
        return False
    _reap(leader)
    return True


def signal_group(pgid: int, sig: signal.Signals) -> None:
    """Sends ``sig`` to process group ``pgid``, if any of it is left."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (on Linux, zombies waiting for their parent do not count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not os.path.isdir("/proc/self"):
        return True
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After "(comm)": state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def start_time(pid: int) -> int | None:
    """When process ``pid`` started (in clock ticks since boot, Linux), to tell it from a later one with its pid."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _reap(leader: int | subprocess.Popen) -> None:
    if isinstance(leader, subprocess.Popen):
        leader.poll()
        return
    try:
        os.waitpid(leader, os.WNOHANG)
    except ChildProcessError:
        pass  # not our child: whoever started it reaps it


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child receive ``sig`` when the process starting it dies.

    Linux's ``PR_SET_PDEATHSIG``: the kernel signals the child when the thread
    that forked it exits, so call ``Popen`` from a thread that lives as long as
    the child should (the one that waits for it does). If the parent died
    between the fork and the ``prctl``, the child exits at once. None where
    there is no prctl (macOS): the caller's other guards have to do.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:  # runs in the child, between fork and exec: no locks, no allocation to speak of
        prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return preexec
