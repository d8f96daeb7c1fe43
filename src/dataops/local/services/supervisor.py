"""Keeps the stack's components running: starts each in its own process group,
restarts one that dies (with backoff), and stops them all on request.

Everything it does is logged to ``logs/supervisor.log`` and recorded in the
state file, which ``dataops status`` and ``dataops down`` read.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from dataops.local import processes
from dataops.local.services.components import Component
from dataops.local.services.state import READY, STARTING, STOPPING, ProcessRecord, StackState

log = logging.getLogger("dataops.services.supervisor")

# A component that stayed up this long is healthy again: its backoff resets.
HEALTHY_AFTER_S = 60.0
MAX_BACKOFF_S = 30.0


@dataclass
class Backoff:
    failures: int = 0

    def next_delay(self, ran_for_s: float) -> float:
        if ran_for_s >= HEALTHY_AFTER_S:
            self.failures = 0
        self.failures += 1
        return min(MAX_BACKOFF_S, 2.0 ** (self.failures - 1))


@dataclass
class Supervised:
    component: Component
    log_file: Path
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    restart_at: float | None = None
    # Where this start's output begins in the (appended) log file.
    log_offset: int = 0
    last_exit: int | None = None
    backoff: Backoff = field(default_factory=Backoff)

    @property
    def name(self) -> str:
        return self.component.name

    def output(self) -> bytes:
        """What the current (or last) start of the component has logged."""
        try:
            with open(self.log_file, "rb") as f:
                f.seek(self.log_offset)
                return f.read()
        except FileNotFoundError:
            return b""

    def record(self) -> ProcessRecord:
        pid = self.process.pid if self.process else 0
        record = ProcessRecord.of(pid, self.restarts) if pid else ProcessRecord(0, None, self.restarts)
        record.last_exit = self.last_exit
        return record


class Supervisor:
    def __init__(self, components: list[Component], env: dict[str, str], logs_dir: Path, cwd: Path,
                 state_file: Path, url: str, stack_id: str, stop_timeout_s: float = 30.0):
        self.children = [Supervised(c, logs_dir / f"{c.name}.log") for c in components]
        self.env, self.cwd = env, cwd
        self.state_file, self.url, self.stack_id = state_file, url, stack_id
        self.stop_timeout_s = stop_timeout_s
        self.phase = STARTING
        self._stopping = threading.Event()

    # Starting and watching.
    def start_all(self) -> None:
        for child in self.children:
            self._start(child)
        self.save_state()

    def child(self, name: str) -> Supervised:
        return next(c for c in self.children if c.name == name)

    def mark_ready(self) -> None:
        self.phase = READY
        self.save_state()
        log.info("stack ready at %s", self.url)

    def watch(self, poll_s: float = 1.0) -> None:
        """Restarts components that die, until ``request_stop()``."""
        while not self._stopping.wait(poll_s):
            self.check_once()

    def check_once(self) -> None:
        changed = False
        now = time.monotonic()
        for child in self.children:
            if child.process is not None and child.process.poll() is not None:
                changed = True
                self._on_exit(child, now)
            if child.process is None and child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                log.warning("restarting %s (restart #%d)", child.name, child.restarts)
                self._start(child)
                changed = True
        if changed:
            self.save_state()

    def request_stop(self) -> None:
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    # Stopping.
    def stop_all(self) -> None:
        self.request_stop()
        self.phase = STOPPING
        self.save_state()
        running = [c for c in self.children if c.process is not None]
        log.info("stopping %s", ", ".join(c.name for c in running) or "nothing")
        for child in running:
            processes.signal_group(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout_s
        for child in running:
            remaining = max(0.0, deadline - time.monotonic())
            try:
                child.process.wait(remaining)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0fs; killing it", child.name, self.stop_timeout_s)
            # Whatever the component left behind in its group goes too.
            processes.stop(child.process, max(0.0, deadline - time.monotonic()))
            child.process.wait()
            log.info("%s stopped (exit code %s)", child.name, child.process.returncode)
            child.process = None
        # Task processes run in process groups of their own; they carry the stack's marker.
        for pid in self.marked_pids():
            log.warning("killing pid %d left behind by the components", pid)
            _signal_pid(pid, signal.SIGKILL)
        self.state_file.unlink(missing_ok=True)

    def marked_pids(self) -> list[int]:
        from dataops.local.services.environment import STACK_ID_VARIABLE
        from dataops.local.services.state import pids_with_marker

        return pids_with_marker(STACK_ID_VARIABLE, self.stack_id) if self.stack_id else []

    def save_state(self) -> None:
        StackState(
            supervisor=ProcessRecord.of(os.getpid()),
            phase=self.phase,
            url=self.url,
            stack_id=self.stack_id,
            components={c.name: c.record() for c in self.children},
        ).save(self.state_file)

    # Internals.
    def _start(self, child: Supervised) -> None:
        child.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(child.log_file, "ab") as out:
            out.write(f"\n==> {time.strftime('%Y-%m-%d %H:%M:%S')} dataops: starting {child.name}\n".encode())
            child.log_offset = out.tell()
        child.process = processes.start(list(child.component.argv), self.env, child.log_file, cwd=self.cwd)
        child.started_at = time.monotonic()
        child.restart_at = None
        log.info("started %s (pid %d)", child.name, child.process.pid)

    def _on_exit(self, child: Supervised, now: float) -> None:
        code = child.process.returncode
        pid = child.process.pid
        # The leader is gone; stop what it left in its group before starting anew.
        processes.stop(child.process, 10.0)
        child.process = None
        child.last_exit = code
        if self.stopping:
            return
        delay = child.backoff.next_delay(now - child.started_at)
        child.restart_at = now + delay
        log.error(
            "%s (pid %d) exited with code %s after %.0fs; restarting in %.0fs; see %s",
            child.name, pid, code, now - child.started_at, delay, child.log_file,
        )


def _signal_pid(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
