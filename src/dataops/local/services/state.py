"""The state file: which processes a stack started, so another shell can stop them.

A process is recorded with its pid and its start time (from ``/proc``), so a
pid reused by an unrelated process after ours ended is never mistaken for
ours.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dataops.local.services.config import write_private

STARTING, READY, STOPPING = "starting", "ready", "stopping"


@dataclass
class ProcessRecord:
    pid: int
    # Clock ticks after boot when the process started (field 22 of /proc/<pid>/stat).
    started: int | None
    restarts: int = 0
    last_exit: int | None = None

    @classmethod
    def of(cls, pid: int, restarts: int = 0) -> ProcessRecord:
        return cls(pid=pid, started=start_ticks(pid), restarts=restarts)

    def alive(self) -> bool:
        return self.started is not None and start_ticks(self.pid) == self.started


@dataclass
class StackState:
    supervisor: ProcessRecord
    phase: str
    url: str
    stack_id: str
    components: dict[str, ProcessRecord] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        write_private(path, json.dumps(asdict(self), indent=2))

    @classmethod
    def read(cls, path: Path) -> StackState | None:
        try:
            data = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return cls(
            supervisor=ProcessRecord(**data["supervisor"]),
            phase=data["phase"],
            url=data["url"],
            stack_id=data["stack_id"],
            components={name: ProcessRecord(**record) for name, record in data["components"].items()},
        )


def start_ticks(pid: int) -> int | None:
    """When ``pid`` started, or None when there is no such (living) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has ended; only its exit status is left
        return None
    return int(fields[19])


def pids_with_marker(variable: str, value: str) -> list[int]:
    """Processes whose environment holds ``variable=value`` (the stack's marker)."""
    needle = f"{variable}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found
