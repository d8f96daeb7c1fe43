"""The triggerer queues no success callback request, which the DAG processor would only ignore.

Airflow 3.3.2's triggerer, for every task that a trigger ends (every model task
of a run here), queues a ``TaskCallbackRequest`` of the task's new state in the
metadata database (``models.trigger.handle_event_submit``), whether or not the
task defines a callback. The DAG processor takes each request, parses the
task's whole DAG file again to run it (a 200-model DAG: about a second of CPU
per parse), and then, for a request that is not a failure callback, only logs
"Task callback requested but is not a failure callback" and returns
(``dag_processing.processor._execute_task_callbacks``). A 200-model run so
cost the DAG processor a parse of its DAG file every second or so while dbt
built, beside dbt on a small machine, and the triggerer one more database
write per task.

The fix, narrow: in the triggerer, ``DatabaseCallbackSink.send`` drops a
``TaskCallbackRequest`` that is not a failure callback (the same test as the
DAG processor's, ``is_failure_callback``); failure and retry requests, and every
other kind, are queued as before. ``patches/airflow-triggerer-no-success-callback-request.patch``
is the same change to Airflow itself.

:func:`install` checks the Airflow code it relies on (:data:`RELIES_ON`); on
another Airflow it logs why and leaves Airflow as it is, and
``tests/airflow/test_triggerer_callbacks.py`` fails naming what changed.
"""

from __future__ import annotations

import logging

from dataops.airflow import patching

log = logging.getLogger(__name__)

TRIGGERER_MODULE = "airflow.jobs.triggerer_job_runner"
# sha256 of each function's source as of the pinned Airflow (dataops.airflow.patching): the
# DAG processor's handling of callback requests (a task's only through _execute_task_callbacks,
# which returns at once for one that is not a failure callback), the test it uses, and the sink
# the triggerer sends them to.
RELIES_ON = {
    "airflow.dag_processing.processor:_execute_callbacks": "bdf087b494ddd2cdf728bccc1898132276549f951c5fc2fecbdfd0b7abb56d29",
    "airflow.dag_processing.processor:_execute_task_callbacks": "bffc5c25ac96c6ae75eb82910defaa64118125708bf747a5ba3fac2b4fabadbd",
    "airflow.callbacks.callback_requests:TaskCallbackRequest.is_failure_callback": "076cd3cac8870dee2b9627845bbc013a9fbe9610ac70069a755c969250f20336",
    "airflow.callbacks.database_callback_sink:DatabaseCallbackSink.send": "3827fa205f25457547008dd54f34eb9f3a2371a0fe751f83c78600b56ac0fe12",
}
_PATCHED = "__dataops_no_success_callback_request__"


def changed_internals() -> list[str]:
    """What differs from the Airflow this fix was written for: empty when it applies."""
    return patching.changed(RELIES_ON)


def ignored_by_the_dag_processor(callback) -> bool:
    """A task's callback request that the DAG processor would parse the DAG file for, then ignore."""
    from airflow.callbacks.callback_requests import TaskCallbackRequest

    return isinstance(callback, TaskCallbackRequest) and not callback.is_failure_callback


def patch(_triggerer_module=None) -> bool:
    """Patch ``DatabaseCallbackSink.send`` (in this process, the triggerer's); False when it must not.

    Called with the triggerer's module when it is imported; the sink is in a module of its own."""
    from airflow.callbacks.database_callback_sink import DatabaseCallbackSink

    if getattr(DatabaseCallbackSink.send, _PATCHED, False):
        return True
    found = changed_internals()
    if found:
        patching.refuse(__name__, found, "The DAG processor parses a DAG file again for each task a trigger ends.")
        return False
    send = DatabaseCallbackSink.send

    def send_unless_ignored(self, callback, *args, **kwargs):
        if ignored_by_the_dag_processor(callback):
            return None
        return send(self, callback, *args, **kwargs)

    send_unless_ignored.__wrapped__ = send
    setattr(send_unless_ignored, _PATCHED, True)
    DatabaseCallbackSink.send = send_unless_ignored
    log.info("dataops: the triggerer queues no success callback request, which the DAG processor ignores (%s)",
             __name__)
    return True


def install() -> None:
    """Apply the fix in the triggerer: now if its module is loaded, else when it is."""
    patching.on_import(TRIGGERER_MODULE, patch)
