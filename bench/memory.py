"""Memory and CPU of a set of process trees while something runs.

A background thread samples, every ``interval_s``, every live process under
the given roots (the roots included): its resident set size (RSS) and its
proportional set size (PSS: each page shared between processes, as forked
Airflow components share most of theirs, counted once across them, so the
PSS sum is what the processes cost the machine). It keeps the largest sums
seen and, at the largest PSS, the figures per component (API server,
scheduler, DAG processor, triggerer, task processes, dbt; see
:func:`component`). RSS counts shared pages once per process: its sum
over-states what the machine needs; it is what ``top`` would add up.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import psutil

MB = 2**20
# Airflow's components, by their command line (``airflow <word>``, or the title it sets).
COMPONENT_WORDS = {
    "api_server": ("airflow api-server", "airflow api_server"),
    "scheduler": ("airflow scheduler",),
    "dag_processor": ("airflow dag-processor", "airflow dag_processor"),
    "triggerer": ("airflow triggerer",),
}


@dataclass
class PeakRss:
    root_pids: list[int]
    interval_s: float = 0.1
    # False: only the roots' descendants (the benchmark's own process is a root).
    include_roots: bool = True
    # Trees left out (the Airflow stack, a child of the benchmark, when timing bare dbt).
    exclude_pids: list[int] = field(default_factory=list)
    # Also PSS, per component (costs a read of /proc/<pid>/smaps_rollup per process and sample).
    pss: bool = False
    peak_mb: float = 0.0
    peak_pss_mb: float = 0.0
    # At the largest PSS: component -> (PSS MB, RSS MB).
    peak_components: dict[str, tuple[float, float]] = field(default_factory=dict)
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
        procs = tree_processes(self.root_pids, self.include_roots, self.exclude_pids)
        if not self.pss:
            self.peak_mb = max(self.peak_mb, sum(_rss(p) for p in procs) / MB)
            return
        by_component = components_mb(procs)
        self.peak_mb = max(self.peak_mb, sum(rss for _, rss in by_component.values()))
        pss = sum(p for p, _ in by_component.values())
        if pss > self.peak_pss_mb:
            self.peak_pss_mb, self.peak_components = pss, by_component


def tree_processes(root_pids: list[int], include_roots: bool = True, exclude_pids: list[int] = ()) -> list[psutil.Process]:
    seen: set[int] = set()
    for pid in exclude_pids:
        try:
            excluded = psutil.Process(pid)
            seen |= {excluded.pid, *(child.pid for child in excluded.children(recursive=True))}
        except psutil.Error:
            continue
    found = []
    for pid in root_pids:
        try:
            root = psutil.Process(pid)
            procs = ([root] if include_roots else []) + root.children(recursive=True)
        except psutil.Error:
            continue
        for proc in procs:
            if proc.pid not in seen:
                seen.add(proc.pid)
                found.append(proc)
    return found


def tree_rss_mb(root_pids: list[int], include_roots: bool = True, exclude_pids: list[int] = ()) -> float:
    return sum(_rss(p) for p in tree_processes(root_pids, include_roots, exclude_pids)) / MB


def _rss(proc: psutil.Process) -> int:
    try:
        return proc.memory_info().rss
    except psutil.Error:
        return 0


def component(proc: psutil.Process) -> str:
    """Which part of the stack a process is: dbt, one of Airflow's components, or a task process.

    A component's forked helpers (the triggerer's trigger runner, the DAG
    processor's parsers, the API server's workers) count as the component;
    what the scheduler's LocalExecutor starts (its worker processes, each
    task's supervisor and task process) counts as "tasks".
    """
    try:
        words = proc.cmdline()
        chain = [proc, *proc.parents()]
    except psutil.Error:
        return "gone"
    line = " ".join(words)
    if any(w.rsplit("/", 1)[-1] == "dbt" for w in words[:2]) or "dbt.cli.main" in line:
        return "dbt"
    for depth, p in enumerate(chain):
        try:
            cmd = " ".join(p.cmdline()).replace("/", " ")
        except psutil.Error:
            continue
        for name, words in COMPONENT_WORDS.items():
            if any(word in cmd for word in words):
                return "tasks" if name == "scheduler" and depth > 0 else name
    return "other"


def components_mb(procs: list[psutil.Process]) -> dict[str, tuple[float, float]]:
    """component -> (PSS MB, RSS MB), summed over ``procs``."""
    totals: dict[str, list[float]] = {}
    for proc in procs:
        try:
            info = proc.memory_full_info()
        except psutil.Error:
            continue
        name = component(proc)
        if name == "gone":  # ended between the listing and now
            continue
        entry = totals.setdefault(name, [0.0, 0.0])
        entry[0] += info.pss / MB
        entry[1] += info.rss / MB
    return {name: (round(pss, 1), round(rss, 1)) for name, (pss, rss) in sorted(totals.items())}


def find_process(root_pids: list[int], word: str) -> int | None:
    """The first of ``root_pids`` or their children whose command line contains ``word``."""
    for proc in tree_processes(root_pids):
        try:
            if word in proc.cmdline():
                return proc.pid
        except psutil.Error:
            continue
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


def with_reaped_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process and of the children it has waited for (the DAG
    processor's parsing processes, each gone when its file is parsed)."""
    try:
        t = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return t.user + t.system + t.children_user + t.children_system


def own_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process, without its children."""
    try:
        t = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return t.user + t.system
