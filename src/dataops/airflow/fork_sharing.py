"""The triggerer and the LocalExecutor's scheduler keep sharing memory with the processes they fork.

Two of Airflow's components fork long-lived children from a process full of
imported modules: the triggerer's supervisor forks its trigger runner
(``TriggerRunnerSupervisor.start``), and the scheduler forks the
LocalExecutor's workers (``LocalExecutor._spawn_workers_with_gc_freeze``). A
forked child shares its parent's pages until either of them writes to one.
CPython's cyclic garbage collector writes to the header of every object it
tracks on each full collection, so after their first full collections parent
and child each hold a private copy of practically every page. Python's
documentation gives the remedy (``gc.freeze``): freeze the parent's objects
right before forking, so that neither side's collector touches them again.

Airflow 3.3.2 does half of that for the LocalExecutor: it freezes before
forking the workers and unfreezes right after, so the workers keep the pages
but the scheduler's next full collection copies them all back. The triggerer
does not freeze at all. Measured on the embedded stack (the bench's
``Workspace``, three 200-model runs in a row, PSS at each run's peak): the
triggerer's two processes 293 → 242 MB, the scheduler 103 → 66 MB, the stack's
settled peak 1,204 → 1,109 MB.

The fix, narrow:

- in the triggerer (the process that imports its job runner), its first fork
  is preceded by a collection and ``gc.freeze()``: it forks at start only (its
  trigger runner, and its log server where it serves logs), so what is frozen
  is what it started with;
- in the scheduler, ``LocalExecutor._spawn_workers_with_gc_freeze`` collects,
  freezes and forks, and leaves the objects frozen.

Frozen objects are still freed when nothing refers to them; only the cycle
collector skips them, and what is frozen is what is alive when the component
starts (modules, classes, settings) or when a dead worker is replaced. On
another Airflow each half logs why and leaves Airflow as it is;
``tests/airflow/test_fork_sharing.py`` fails naming what changed.
``patches/airflow-gc-freeze-before-fork.patch`` is the same change to Airflow.
"""

from __future__ import annotations

import gc
import logging
import os

from dataops.airflow import patching

log = logging.getLogger(__name__)

TRIGGERER_MODULE = "airflow.jobs.triggerer_job_runner"
LOCAL_EXECUTOR_MODULE = "airflow.executors.local_executor"
# sha256 of each function's source as of the pinned Airflow (dataops.airflow.patching), per half:
# each process checks only its own half's, so that neither imports the other's module.
TRIGGERER_RELIES_ON = {
    # The triggerer's supervisor forks its runner once, at start (WatchedSubprocess.start: os.fork).
    "airflow.jobs.triggerer_job_runner:TriggerRunnerSupervisor.start": "585a15261607e5ef8eb07fe19ff63f673e0b26c752c3e4010a5d3c5e3975bbd7",
}
LOCAL_EXECUTOR_RELIES_ON = {
    # The LocalExecutor forks its workers through this method only: all of them at start, and
    # replacements for dead ones.
    "airflow.executors.local_executor:LocalExecutor._spawn_workers_with_gc_freeze": "79d6da66cfc8b3257bbb436c500e575751ff83a516989c13bfb118b8525b14e1",
    "airflow.executors.local_executor:LocalExecutor.start": "400f4a5e2ddde73649bec92a939e6e24c04c11afeb88efcec17aba1f4e467950",
    "airflow.executors.local_executor:LocalExecutor._check_workers": "c7090db880e7e2a73ba3e52ad225711446a35290c0db2c34ff5c2936104e9260",
}
RELIES_ON = {**TRIGGERER_RELIES_ON, **LOCAL_EXECUTOR_RELIES_ON}
_PATCHED = "__dataops_frozen_before_fork__"


def changed_internals() -> list[str]:
    """What differs from the Airflow this fix was written for: empty when it applies."""
    return patching.changed(RELIES_ON)


def freeze() -> None:
    """Collect what is garbage now, then keep every object left out of later collections."""
    gc.collect()
    gc.freeze()


class _FreezeBeforeFirstFork:
    """An ``os.register_at_fork(before=...)`` hook that freezes once: before this process's first fork."""

    def __init__(self) -> None:
        self.done = False

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            freeze()


def freeze_before_first_fork() -> None:
    """From now on, this process's first ``os.fork()`` is preceded by :func:`freeze`."""
    os.register_at_fork(before=_FreezeBeforeFirstFork())


def _patch_triggerer(_triggerer_module=None) -> bool:
    found = patching.changed(TRIGGERER_RELIES_ON)
    if found:
        patching.refuse(__name__, found, "The triggerer's runner copies its supervisor's memory.")
        return False
    freeze_before_first_fork()
    log.info("dataops: the triggerer freezes its objects before it forks its trigger runner (%s)", __name__)
    return True


def patch_local_executor(_module=None) -> bool:
    """Patch ``LocalExecutor._spawn_workers_with_gc_freeze``; False when it must not."""
    from airflow.executors.local_executor import LocalExecutor

    if getattr(LocalExecutor._spawn_workers_with_gc_freeze, _PATCHED, False):
        return True
    found = patching.changed(LOCAL_EXECUTOR_RELIES_ON)
    if found:
        patching.refuse(__name__, found, "The scheduler copies the memory it shares with its LocalExecutor workers.")
        return False
    spawn = LocalExecutor._spawn_workers_with_gc_freeze

    def spawn_workers_frozen(self, spawn_number):
        freeze()
        for _ in range(spawn_number):
            self._spawn_worker()

    spawn_workers_frozen.__wrapped__ = spawn
    setattr(spawn_workers_frozen, _PATCHED, True)
    LocalExecutor._spawn_workers_with_gc_freeze = spawn_workers_frozen
    log.info("dataops: the LocalExecutor's objects stay frozen once its workers are forked (%s)", __name__)
    return True


def install() -> None:
    """Apply each half in the process that uses it, when it imports the module concerned."""
    patching.on_import(TRIGGERER_MODULE, _patch_triggerer)
    patching.on_import(LOCAL_EXECUTOR_MODULE, patch_local_executor)
