"""Airflow's CeleryExecutor, patient with its broker.

Airflow 3.3's CeleryExecutor (apache-airflow-providers-celery 3.26) sends a
task once per scheduler loop with ``apply_async`` under ``[celery]
operation_timeout`` (1 s). Only a *timeout* keeps the task queued for another
try, and only ``[celery] task_publish_max_retries`` (3) times; any other
error, such as the broker refusing connections (kombu's ``OperationalError``
once Celery's own publish retries, well under a second, are spent), fails the
task at once and burns one of its retries. A broker outage longer than the
task's retries and their delays therefore failed runs.

This executor keeps a task it could not send because of the broker queued in
the executor, and tries again every ``RETRY_EVERY_S`` seconds, for up to
``[celery] broker_outage_s`` seconds (an option of this executor only;
default 300) counted from its first failed send. The task's Airflow state stays ``queued`` meanwhile: no
retry is spent and nothing else of the run changes. Past the window the task
fails as before, with a message naming the broker; for a dbt producer task
(``dbt_build``) the same message is written to its report, so every model
task of the run says the broker was the cause instead of "ended failed
before running dbt".

The window must stay below ``[scheduler] task_queued_timeout`` (600 s by
default), after which the scheduler itself gives up on a queued task.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from airflow.providers.celery.executors.celery_executor import CeleryExecutor
from airflow.providers.celery.executors.celery_executor_utils import ExceptionWithTraceback
from airflow.providers.common.compat.sdk import AirflowTaskTimeout
from airflow.utils.state import TaskInstanceState

log = logging.getLogger(__name__)

CONFIG_SECTION, OUTAGE_OPTION = "celery", "broker_outage_s"  # read by this executor only
DEFAULT_OUTAGE_S = 300.0
RETRY_EVERY_S = 2.0


def is_broker_problem(exc: BaseException) -> bool:
    """Whether a failed ``apply_async`` failed for want of the broker (not for the task itself)."""
    import kombu.exceptions

    try:
        import redis.exceptions as redis_errors

        redis_types: tuple[type[BaseException], ...] = (redis_errors.ConnectionError, redis_errors.TimeoutError)
    except ImportError:  # another broker
        redis_types = ()
    # InconsistencyError: a restarted Redis lost the queue's binding; the worker declares it again on reconnecting.
    broker_types = (
        kombu.exceptions.OperationalError, kombu.exceptions.InconsistencyError, AirflowTaskTimeout,
        ConnectionError, TimeoutError, *redis_types,
    )
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, broker_types):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def broker_address(url: str) -> str:
    """``scheme://host:port`` of the broker, without credentials or database."""
    first = url.split(";")[0]
    parts = urlsplit(first)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{parts.hostname or 'localhost'}{port}"


class BrokerPatientCeleryExecutor(CeleryExecutor):
    """The CeleryExecutor, keeping tasks queued through a broker outage (see the module doc)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.broker_outage_s = float(self.conf.get(CONFIG_SECTION, OUTAGE_OPTION, fallback=str(DEFAULT_OUTAGE_S)))
        self.broker = broker_address(self.conf.get("celery", "broker_url", fallback="") or "")
        self._send_failed_since: dict = {}
        self._next_send_at: dict = {}
        self._gave_up: dict = {}

    def _send_workloads_to_celery(self, workload_tuples_to_send):
        now = time.monotonic()
        due = [t for t in workload_tuples_to_send if self._next_send_at.get(t[0], 0.0) <= now]
        sent = {key: (key, args, result) for key, args, result in super()._send_workloads_to_celery(due)} if due else {}
        results = []
        for workload in workload_tuples_to_send:
            key = workload[0]
            if key not in sent:  # waiting for its next try: kept queued, as a timeout would be
                self.workload_publish_retries[key] = 0  # however many scheduler loops come in between
                results.append((key, workload[1], _keep_queued()))
                continue
            key, args, result = sent[key]
            if isinstance(result, ExceptionWithTraceback) and is_broker_problem(result.exception):
                result = self._on_broker_problem(key, args, result, now)
            else:
                if key in self._send_failed_since:
                    log.warning("sent %s after the broker at %s was unreachable for %.0fs",
                                key, self.broker, now - self._send_failed_since[key])
                self._forget(key)
            results.append((key, args, result))
        return results

    def _on_broker_problem(self, key, args, result: ExceptionWithTraceback, now: float):
        first = self._send_failed_since.setdefault(key, now)
        waited = now - first
        if waited < self.broker_outage_s:
            self._next_send_at[key] = now + RETRY_EVERY_S
            # The base class keeps a timed-out send queued while this count is under its maximum.
            self.workload_publish_retries[key] = 0
            log.warning(
                "cannot send %s: the Celery broker at %s is unreachable (%s); keeping it queued, "
                "trying again every %.0fs for %.0fs more",
                key, self.broker, result.exception, RETRY_EVERY_S, self.broker_outage_s - waited,
            )
            return _keep_queued()
        self._forget(key)
        message = (
            f"the Celery broker at {self.broker} was unreachable for {waited:.0f}s "
            f"(longer than [{CONFIG_SECTION}] {OUTAGE_OPTION} = {self.broker_outage_s:.0f}s), "
            f"so the task could not be sent to a worker: {result.exception}"
        )
        self._gave_up[key] = message
        return ExceptionWithTraceback(BrokerUnavailable(message), result.traceback)

    def _send_workloads(self, workload_tuples_to_send):
        super()._send_workloads(workload_tuples_to_send)
        # The base class records (FAILED, None); say why, in the scheduler's log, the
        # task's failure and the audit log ("state mismatch" event), and tell dbt's model tasks.
        for key, message in list(self._gave_up.items()):
            del self._gave_up[key]
            self.event_buffer[key] = (TaskInstanceState.FAILED, message)
            _report_to_model_tasks(key, message)

    def _forget(self, key) -> None:
        self._send_failed_since.pop(key, None)
        self._next_send_at.pop(key, None)


class BrokerUnavailable(Exception):
    """A task could not be sent for longer than the broker outage window."""


def _keep_queued() -> ExceptionWithTraceback:
    return ExceptionWithTraceback(AirflowTaskTimeout("waiting for the Celery broker"), "")


def _report_to_model_tasks(key, message: str) -> None:
    """A dbt producer that could not be sent ends its run's report with ``message``.

    The model tasks read the producer's report (``dataops.airflow.run_report``);
    without it they only see the producer failed "before running dbt". Only a
    producer with no retry left: the report is final, the model tasks end on it.
    """
    from dataops.airflow.naming import PRODUCER_TASK_ID

    if getattr(key, "task_id", None) != PRODUCER_TASK_ID:
        return
    try:
        from airflow.models.dagrun import DagRun
        from airflow.models.taskinstance import TaskInstance
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        from dataops.airflow.run_report import RESULTS_KEY, RunReport, run_epoch

        with create_session() as session:
            dag_run = session.query(DagRun).filter_by(dag_id=key.dag_id, run_id=key.run_id).one_or_none()
            ti = session.query(TaskInstance).filter_by(
                dag_id=key.dag_id, run_id=key.run_id, task_id=key.task_id, map_index=key.map_index
            ).one_or_none()
            # A producer with a retry left tries again (with a window of its own): its run goes on.
            if dag_run is None or ti is None or ti.try_number <= ti.max_tries:
                return
            report = RunReport(run_epoch=run_epoch(dag_run), try_number=key.try_number, final=True,
                               error=f"{PRODUCER_TASK_ID} was not run: {message}")
            XComModel.set(key=RESULTS_KEY, value=report.to_json(), dag_id=key.dag_id, task_id=key.task_id,
                          run_id=key.run_id, map_index=key.map_index, session=session)
    except Exception:  # the message is in the task's failure and the scheduler's log all the same
        log.exception("could not record the broker failure in %s's report", key)
