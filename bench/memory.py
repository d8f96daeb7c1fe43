"""Peak memory of a set of process trees while something runs.

A background thread samples, every ``interval_s``, the resident set size
(RSS) of every live process under the given roots (the roots included) and
keeps the largest sum seen. Shared pages are counted once per process, so
the sum over-states what the machine needs a little; it is what ``top``
would add up.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import psutil


@dataclass
class PeakRss:
    root_pids: list[int]
    interval_s: float = 0.1
    # False: only the roots' descendants (the benchmark's own process is a root).
    include_roots: bool = True
    # Trees left out (the Airflow stack, a child of the benchmark, when timing bare dbt).
    exclude_pids: list[int] = field(default_factory=list)
    peak_mb: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> PeakRss:
        self._thread = threading.Thread(target=self._loop, name="peak-rss", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def _sample(self) -> None:
        self.peak_mb = max(self.peak_mb, tree_rss_mb(self.root_pids, self.include_roots, self.exclude_pids))


def tree_rss_mb(root_pids: list[int], include_roots: bool = True, exclude_pids: list[int] = ()) -> float:
    seen: set[int] = set()
    for pid in exclude_pids:
        try:
            excluded = psutil.Process(pid)
            seen |= {excluded.pid, *(child.pid for child in excluded.children(recursive=True))}
        except psutil.Error:
            continue
    total = 0
    for pid in root_pids:
        try:
            root = psutil.Process(pid)
            procs = ([root] if include_roots else []) + root.children(recursive=True)
        except psutil.Error:
            continue
        for proc in procs:
            if proc.pid in seen:
                continue
            seen.add(proc.pid)
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                continue
    return total / 2**20


def find_process(root_pid: int, word: str) -> int | None:
    """The first process under ``root_pid`` whose command line contains ``word``."""
    try:
        for proc in psutil.Process(root_pid).children(recursive=True):
            if word in proc.cmdline():
                return proc.pid
    except psutil.Error:
        return None
    return None


def tree_cpu_s(root_pid: int) -> float:
    """User + system CPU seconds of a process and its live children so far."""
    try:
        root = psutil.Process(root_pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            continue
    return total
