"""The one dbt process of a DAG run, and the report its model tasks read.

``DbtProducerOperator`` (task ``dbt_build``) runs ``dbt build`` once for the
run's nodes, locally or on ECS (``DATAOPS_DBT_EXECUTOR``), follows dbt's
structured events and publishes each node's final outcome to the run's
report (see run_report.py) a fraction of a second after dbt decides it. It
builds the nodes whose tasks have not succeeded yet in this run: every node
on the first try, what remains when it is retried after a crash.

It fails only when dbt could not run (no results at all); failed models are
shown by their own tasks and by the run's ``dbt_done`` task.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence

from airflow.sdk.exceptions import AirflowException

from dataops.airflow.operators.job import DbtJobOperator
from dataops.airflow.run_report import RESULTS_KEY, RunReport, run_epoch

_PUSH_INTERVAL_S = 0.25
# A push slower than this is logged: the metadata database or API server is struggling.
_SLOW_PUSH_S = 1.0


class DbtProducerOperator(DbtJobOperator):
    ui_color = "#ff694b"

    def __init__(
        self,
        *,
        nodes: Mapping[str, tuple[str, str]],
        select: Sequence[str] = (),
        exclude: Sequence[str] = (),
        threads: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        # task_id -> (unique_id, selector) for every dbt task of the DAG.
        self.nodes = dict(nodes)
        self.select = list(select)
        self.exclude = list(exclude)
        self.threads = threads

    def execute(self, context):
        ti, dag_run = context["ti"], context["dag_run"]
        report = RunReport(run_epoch=run_epoch(dag_run), try_number=ti.try_number)
        ti.xcom_push(RESULTS_KEY, report.to_json())
        publisher = _ReportPublisher(ti, report, self.log)
        try:
            return self._build(ti, context, publisher)
        except Exception as exc:
            # The model tasks end with this message: say why, not only "no result".
            if not report.final:
                publisher.finish(None, f"{self.task_id} could not run dbt: {exc}")
            raise
        finally:
            publisher.stop()

    def _build(self, ti, context, publisher: _ReportPublisher):
        from dataops.dbt.runner import DbtInvocation

        states = _task_states(ti, context)
        todo = {tid: spec for tid, spec in self.nodes.items() if states.get(tid) != "success"}
        if not todo:
            self.log.info("Every dbt task of this run has succeeded already; nothing to build.")
            publisher.finish(0, None)
            return None
        if len(todo) == len(self.nodes):
            select, exclude = self.select, self.exclude
        else:
            self.log.info("Building the %d of %d nodes not yet built in this run", len(todo), len(self.nodes))
            select, exclude = sorted(sel for _, sel in todo.values()), []

        invocation = DbtInvocation(select=tuple(select), exclude=tuple(exclude), threads=self.threads)
        publisher.start()
        job = self.run_dbt(
            ti,
            invocation,
            expected={uid for uid, _ in todo.values()},
            on_outcome=lambda outcome: publisher.add(outcome.unique_id, outcome.to_json()),
        )
        result, reported, failed = job.result, len(job.outcomes), job.failed
        error = None
        if job.missing:
            missing = f"{len(job.missing)} of {len(job.expected)} nodes"
            what = "could not run" if not reported else f"ended without reporting {missing}"
            error = f"dbt {what} (exit code {result.returncode}):\n{result.failure_reason()}"
        publisher.finish(result.returncode, error)
        self.log.info(
            "dbt %s exited %s in %.1fs: %d nodes reported, %d failed%s",
            invocation.command,
            result.returncode,
            result.duration_s,
            reported,
            len(failed),
            f" ({', '.join(failed[:10])})" if failed else "",
        )
        if not reported:
            raise AirflowException(error)
        return {"returncode": result.returncode, "failed": failed, "where": result.where}


def _task_states(ti, context) -> dict[str, str | None]:
    try:
        states = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id])
    except Exception:  # outside a real run (unit tests, dag.test): build everything
        return {}
    return dict(states.get(ti.run_id, {}))


class _ReportPublisher:
    """Rewrites the run's report XCom when outcomes arrive, at most every 0.25 s."""

    def __init__(self, ti, report: RunReport, log):
        self.ti, self.report, self.log = ti, report, log
        self.lock = threading.Lock()
        # Held across a push, so an older snapshot never lands after a newer one.
        self.push_lock = threading.Lock()
        self.dirty = False
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="dbt-report", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def add(self, unique_id: str, outcome: dict) -> None:
        with self.lock:
            self.report.nodes[unique_id] = outcome
            self.dirty = True

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join()

    def finish(self, returncode: int, error: str | None) -> None:
        with self.lock:
            self.report.final = True
            self.report.returncode = returncode
            self.report.error = error
            self.dirty = True
        self._flush()

    def _loop(self) -> None:
        while not self.stopping.wait(_PUSH_INTERVAL_S):
            self._flush()
        self._flush()

    def _flush(self) -> None:
        with self.push_lock:
            with self.lock:
                if not self.dirty:
                    return
                payload = self.report.to_json()
                self.dirty = False
            started = time.monotonic()
            self.ti.xcom_push(RESULTS_KEY, payload)
            if time.monotonic() - started > _SLOW_PUSH_S:
                self.log.warning("publishing dbt results took %.1fs", time.monotonic() - started)
