"""How busy the machine's cores were during the test run, printed after pytest's slowest tests.

The suite is CPU-bound on two cores (``make test`` runs its files side by side
until both cores are busy): its time is the CPU it needs over the cores, not
the length of its longest file. The line says which: about 2 of 2 cores busy
means only less CPU makes it faster. It counts the whole machine (/proc/stat):
the infra tests beside this run and anything else running.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path


def busy_seconds(stat: str, ticks_per_s: int) -> float:
    """CPU seconds the cores have been busy since boot, from /proc/stat's first line
    (user, nice, system, irq and softirq; not idle, iowait or time stolen by the host)."""
    fields = stat.split("\n", 1)[0].split()
    if not fields or fields[0] != "cpu":
        raise ValueError(f"not /proc/stat's first line: {fields[:3]}")
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[1:8])
    return (user + nice + system + irq + softirq) / ticks_per_s


@dataclass(frozen=True)
class Reading:
    wall_s: float
    busy_s: float

    @classmethod
    def now(cls) -> Reading | None:
        try:
            stat = Path("/proc/stat").read_text()
        except OSError:
            return None  # not Linux: no line
        return cls(time.monotonic(), busy_seconds(stat, os.sysconf("SC_CLK_TCK")))


def summary(start: Reading, end: Reading, cores: int) -> str:
    wall, busy = end.wall_s - start.wall_s, end.busy_s - start.busy_s
    return (
        f"machine CPU: {busy:.0f} CPU-s in {wall:.0f} s, {busy / max(wall, 1e-9):.2f} of {cores} cores busy "
        "(the whole machine: this run, the infra tests beside it, anything else)"
    )
