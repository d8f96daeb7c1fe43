"""The triggerer's supervisor closes a finished trigger's log a little later, so its last records land.

Airflow 3.3.2's trigger runner writes each trigger's log records on one
socket and its state changes (a trigger finished, with its event) on another.
The supervisor closes a trigger's log file as soon as it handles the state
change (``TriggerRunnerSupervisor._handle_request``), and the records it reads
after that go to the triggerer's own log, not the task's (apache/airflow#66158):
when both sockets are ready at once (a busy machine, or a runner woken at once
by dataops.airflow.triggerer_wake), a model task's last lines, dbt's time
among them, are lost.

The fix, narrow: the supervisor handles the state change as before, but
keeps the finished triggers' log files open for LINGER_LOOPS more loops and at
least LINGER_S seconds, whose waits on the sockets read what the runner wrote
before (the same handlers, the same files). One loop was not enough: each
loop reads one chunk of the log socket, and at the end of a big run, on a
loaded machine, the runner's backlog of records is longer than that (CI lost
a run's last error so). At most MAX_LINGERING logs stay open; past that the
oldest close once a loop has gone by. ``patches/airflow-triggerer-wake.patch``
has the same change to Airflow itself.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from dataops.airflow import patching

log = logging.getLogger(__name__)

TRIGGERER_MODULE = "airflow.jobs.triggerer_job_runner"
RELIES_ON = {
    # Handles TriggerStateChanges: discards finished ids from running/cancelling and closes their logs.
    "airflow.jobs.triggerer_job_runner:TriggerRunnerSupervisor._handle_request": "76b620264138c7da7ff3a9d49598b502712e6f29b1bca18eba9ddbd95513233b",
    # One loop: load triggers, wait on the sockets (reading logs and requests), handle events.
    "airflow.jobs.triggerer_job_runner:TriggerRunnerSupervisor.run_once": "11a9e2701a6b116af2ba983b783b7bfcbdd7beaf724be20c8554dd21cd86d96b",
    # A record goes to logger_cache[trigger_id]'s file while it is there, else to the triggerer's log.
    "airflow.jobs.triggerer_job_runner:TriggerRunnerSupervisor._process_log_messages_from_subprocess": "532663fa9774ee8c77d9fb277890f27756efc135f33be55277488971176cd6b8",
}
_PATCHED = "__dataops_late_log_close__"
LINGER_LOOPS = 2
LINGER_S = 3.0
MAX_LINGERING = 256  # open files; a process commonly has 1,024


@dataclass
class _Finished:
    trigger_id: int
    at: float  # time.monotonic() when the supervisor learnt it finished
    loops: int = 0  # the supervisor's loops begun after that


# The supervisor's finished triggers whose logs are still open, by supervisor (attrs slots: no attribute).
_closing: dict[int, list[_Finished]] = {}


def changed_internals() -> list[str]:
    return patching.changed(RELIES_ON)


def defer_finished(supervisor, msg) -> None:
    """Take the finished triggers out of ``msg`` (the original closes their logs) and do the rest of
    what it does for them; their logs close after the supervisor's next loop."""
    finished = list(msg.finished or ())
    if not finished:
        return
    msg.finished = []
    now = time.monotonic()
    for trigger_id in finished:
        supervisor.running_triggers.discard(trigger_id)
        supervisor.cancelling_triggers.discard(trigger_id)
    _closing.setdefault(id(supervisor), []).extend(_Finished(t, now) for t in finished)


def due(lingering: list[_Finished], now: float) -> tuple[list[int], list[_Finished]]:
    """After a loop: the triggers whose logs close now, and those that stay open (oldest first)."""
    rest = [f for f in lingering if f.loops < LINGER_LOOPS or now - f.at < LINGER_S]
    # Too many open: the oldest close early, once a loop has read after they finished.
    excess = max(0, len(rest) - MAX_LINGERING)
    early = {id(f) for f in rest[:excess] if f.loops >= 1}
    keep = {id(f) for f in rest} - early
    return [f.trigger_id for f in lingering if id(f) not in keep], [f for f in rest if id(f) in keep]


def close_logs(supervisor, trigger_ids: list[int]) -> None:
    """What the original does for a finished trigger's log: upload it, close it."""
    for trigger_id in trigger_ids:
        factory = supervisor.logger_cache.pop(trigger_id, None)
        if factory is None:
            continue
        try:
            factory.upload_to_remote()
        except Exception:
            log.exception("Failed to upload trigger logs to remote (trigger %s)", trigger_id)
        finally:
            factory.close()


def patch(module) -> bool:
    """Patch ``TriggerRunnerSupervisor`` of the triggerer's ``module``; False when it must not."""
    cls = module.TriggerRunnerSupervisor
    if getattr(cls.run_once, _PATCHED, False):
        return True
    found = changed_internals()
    if found:
        patching.refuse(__name__, found, "A busy triggerer can drop a trigger's last log records.")
        return False
    state_changes = module.messages.TriggerStateChanges
    handle_request, run_once = cls._handle_request, cls.run_once

    def _handle_request(self, msg, log, req_id):
        if isinstance(msg, state_changes):
            defer_finished(self, msg)
        return handle_request(self, msg, log, req_id)

    def _run_once(self):
        for finished in _closing.get(id(self), ()):  # finished before this loop
            finished.loops += 1
        try:
            run_once(self)  # its wait on the sockets reads their last records
        finally:
            closing, _closing[id(self)] = due(_closing.get(id(self), []), time.monotonic())
            close_logs(self, closing)

    for new, old in ((_handle_request, handle_request), (_run_once, run_once)):
        setattr(new, _PATCHED, True)
        new.__wrapped__ = old
    cls._handle_request, cls.run_once = _handle_request, _run_once
    log.info("dataops: the triggerer's supervisor closes a finished trigger's log a few seconds later (%s)", __name__)
    return True


def install() -> None:
    """Apply the fix in this process: now if the triggerer's module is loaded, else when it is."""
    patching.on_import(TRIGGERER_MODULE, patch)
