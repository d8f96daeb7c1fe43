"""Ends the triggerer's one-second nap as soon as one of the platform's triggers has fired.

Airflow 3.3's trigger runner (``airflow.jobs.triggerer_job_runner.TriggerRunner.arun``)
collects finished triggers and sends their events to its supervisor once per
loop, and naps a second between loops (``with anyio.move_on_after(1): await
stop_event.wait()``). A task ended by a trigger so waits half a second on
average, and a dbt run ends with one such wait after another: its model tasks,
then ``dbt_done`` after the publish.

This module shortens the nap for the platform's own triggers only: a trigger
calls :func:`wake_when_done` before it yields its event, and ``LOG_GRACE_S``
after the trigger's asyncio task has finished (its event queued, its cleanup
done) the runner's current nap is cut short. The grace is for the trigger's
log: Airflow's supervisor closes a trigger's log file when it learns the
trigger finished, and drops the records it reads after that
(apache/airflow#66158); dataops.airflow.triggerer_logs keeps the file open a
loop longer where it applies, and the grace covers the rest. Two woken loops are kept at least
``MIN_GAP_S`` apart, so a burst of a thousand finished triggers costs the
runner and its supervisor at most that many syncs per second, not one per
trigger.

How: in the trigger runner's process (the module is imported there to load
the platform's triggers), :func:`install` replaces the ``anyio`` name of
``airflow.jobs.triggerer_job_runner`` with a shim whose ``move_on_after``
records the scope it hands out; everything else is anyio's. The pinned
Airflow's loop is checked by tests/airflow/test_triggerer_wake.py, which fails
loudly when an upgrade changes it. Elsewhere (workers, the DAG processor) and
where the loop no longer looks as expected, nothing is changed: triggers then
end at the runner's own pace, as before. The upstream change this stands in
for is ``patches/airflow-triggerer-wake.patch``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from typing import Any

log = logging.getLogger(__name__)

RUNNER_MODULE = "airflow.jobs.triggerer_job_runner"
# The runner's nap the shim may shorten: TriggerRunner.arun's ``anyio.move_on_after(1)``.
RUNNER_NAP_S = 1
# The supervisor reads a trigger's last log records before it learns the trigger finished.
LOG_GRACE_S = 0.15
MIN_GAP_S = 0.1


class _Nap:
    """The runner's nap in progress (None while it works), and whether a fired trigger waits."""

    scope: Any = None
    pending = False
    last_woken = 0.0


class _NapScope:
    """The runner's cancel scope for one nap, known to :func:`_wake` while it lasts."""

    def __init__(self, scope):
        self.scope = scope

    def __enter__(self):
        entered = self.scope.__enter__()
        _Nap.scope = self.scope
        return entered

    def __exit__(self, *exc_info):
        _Nap.scope = None
        return self.scope.__exit__(*exc_info)


class _WakeableAnyio:
    """``anyio`` as the trigger runner's module sees it, with a nap that can be cut short."""

    def __init__(self, anyio_module):
        self._anyio = anyio_module

    def __getattr__(self, name: str):
        return getattr(self._anyio, name)

    def move_on_after(self, delay, shield: bool = False):
        if delay != RUNNER_NAP_S:
            return self._anyio.move_on_after(delay, shield=shield)
        if _Nap.pending:
            # A trigger finished while the runner was working: loop again at once
            # (or once the minimum gap has passed), without a wake-up.
            _Nap.pending = False
            delay = max(0.0, MIN_GAP_S - (time.monotonic() - _Nap.last_woken))
            _Nap.last_woken = time.monotonic() + delay
        return _NapScope(self._anyio.move_on_after(delay, shield=shield))


def install() -> bool:
    """Put the shim in the trigger runner's module, once; False where there is no runner here."""
    module = sys.modules.get(RUNNER_MODULE)
    if module is None:
        return False
    current = getattr(module, "anyio", None)
    if isinstance(current, _WakeableAnyio):
        return True
    if current is None or not hasattr(current, "move_on_after"):
        log.warning("%s has no anyio.move_on_after any more: triggers end at the runner's own pace", RUNNER_MODULE)
        return False
    module.anyio = _WakeableAnyio(current)
    return True


def installed() -> bool:
    module = sys.modules.get(RUNNER_MODULE)
    return module is not None and isinstance(getattr(module, "anyio", None), _WakeableAnyio)


def wake_when_done(task: asyncio.Task | None = None) -> None:
    """Cut the runner's nap short once ``task`` (default: the current one, the trigger's) has finished."""
    if not installed():
        return
    task = task or asyncio.current_task()
    if task is not None:
        task.add_done_callback(_wake_after_grace)


def _wake_after_grace(_task=None) -> None:
    asyncio.get_running_loop().call_later(LOG_GRACE_S, _wake)


def _wake(_task=None) -> None:
    scope = _Nap.scope
    if scope is None:
        _Nap.pending = True  # the runner is working: its next nap is skipped
        return
    # Napping: end it now, or at the minimum gap after the last woken loop.
    wait = MIN_GAP_S - (time.monotonic() - _Nap.last_woken)
    _Nap.last_woken = time.monotonic() + max(wait, 0.0)
    if wait <= 0:
        scope.cancel()
    else:
        scope.deadline = min(scope.deadline, _now() + wait)


def _now() -> float:
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()
