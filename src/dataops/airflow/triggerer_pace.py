"""The triggerer's supervisor loads and cleans triggers once a second, not on every message.

Airflow 3.3.2's ``TriggerRunnerSupervisor.run_once`` loads triggers
(``Trigger.assign_unassigned``, ``Trigger.ids_for_triggerer``) and cleans
unused ones (an UPDATE over task instances and a DELETE over triggers) on
every pass of its loop, and a pass ends as soon as its trigger process sends
anything: a log record, a trigger's request (the run watcher's two reads,
four times a second), a finished trigger. While a run's model tasks end,
that is many passes a second, each with those queries: in a profile of the
triggerer during a 200-model run they took about 30% of its CPU.

The fix, narrow: ``load_triggers`` runs at most once per
:data:`LOAD_INTERVAL_S` (1 s, the loop's own pace when idle, so a new trigger
waits no longer than on an idle triggerer), and ``clean_unused`` runs right
before it rather than at the end of every pass. Airflow's order stays: the
triggers whose events were handled are cleaned before triggers are loaded
again, so a finished trigger's row is never loaded (and started) anew
(``update_triggers`` only knows running, cancelling and pending triggers).
Events are still handled on every pass. ``patches/airflow-triggerer-pace.patch``
is the same change to Airflow itself.

:func:`install` checks the Airflow code it relies on (:data:`RELIES_ON`); on
another Airflow it logs why and leaves Airflow as it is, and
``tests/airflow/test_triggerer_pace.py`` fails naming what changed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from dataops.airflow import patching

log = logging.getLogger(__name__)

TRIGGERER_MODULE = "airflow.jobs.triggerer_job_runner"
RELIES_ON = {
    # One pass: load triggers, wait on the sockets (returns on any message), handle events, clean unused.
    "airflow.jobs.triggerer_job_runner:TriggerRunnerSupervisor.run_once": "11a9e2701a6b116af2ba983b783b7bfcbdd7beaf724be20c8554dd21cd86d96b",
    "airflow.jobs.triggerer_job_runner:TriggerRunnerSupervisor.load_triggers": "1c55ebd398f7172014b30c5ad681d23a2e71d777854640ec67fb15e538c8d974",
    "airflow.jobs.triggerer_job_runner:TriggerRunnerSupervisor.clean_unused": "4f76e3bab54e676191be240f6f7b12493915d33d3ad79f73029e8fe1da9999ab",
    # Starts every requested trigger it does not know as running, cancelling or pending: a finished
    # trigger's row left in the table would start again.
    "airflow.jobs.triggerer_job_runner:TriggerRunnerSupervisor.update_triggers": "fadb502c2a646f3933f5390129e84c9bc27b24d2e69c3852c92e1b0645964158",
}
_PATCHED = "__dataops_paced__"
LOAD_INTERVAL_S = 1.0


@dataclass
class Pace:
    """When a supervisor last loaded triggers."""

    interval_s: float = LOAD_INTERVAL_S
    loaded_at: float | None = None

    def load_due(self, now: float) -> bool:
        return self.loaded_at is None or now - self.loaded_at >= self.interval_s


# By supervisor (an attrs class with slots: no attribute of ours fits on it).
_paces: dict[int, Pace] = {}


def changed_internals() -> list[str]:
    return patching.changed(RELIES_ON)


def pace_of(supervisor) -> Pace:
    return _paces.setdefault(id(supervisor), Pace())


def patch(module) -> bool:
    """Patch ``TriggerRunnerSupervisor`` of the triggerer's ``module``; False when it must not."""
    cls = module.TriggerRunnerSupervisor
    if getattr(cls.load_triggers, _PATCHED, False):
        return True
    found = changed_internals()
    if found:
        patching.refuse(__name__, found, "The triggerer queries for its triggers on every message of its runner.")
        return False
    apply_to(cls)
    log.info("dataops: the triggerer's supervisor loads and cleans triggers at most once a second (%s)", __name__)
    return True


def apply_to(cls) -> None:
    """Pace ``cls``'s ``load_triggers`` and ``clean_unused`` (a supervisor class, or a stand-in's)."""
    load_triggers, clean_unused = cls.load_triggers, cls.clean_unused

    def paced_load_triggers(self):
        pace = pace_of(self)
        now = time.monotonic()
        if not pace.load_due(now):
            return
        clean_unused(self)  # the triggers whose events were handled since the last load
        load_triggers(self)
        pace.loaded_at = now

    def deferred_clean_unused(self):
        pass  # done before the next load

    for new, old in ((paced_load_triggers, load_triggers), (deferred_clean_unused, clean_unused)):
        setattr(new, _PATCHED, True)
        new.__wrapped__ = old
    cls.load_triggers, cls.clean_unused = paced_load_triggers, deferred_clean_unused


def install() -> None:
    """Apply the fix in this process: now if the triggerer's module is loaded, else when it is."""
    patching.on_import(TRIGGERER_MODULE, patch)
