"""The one dbt process of a DAG run, and the report its model tasks read.

``DbtProducerOperator`` (task ``dbt_build``) runs ``dbt build`` once for the
run's nodes, locally or on ECS (``DATAOPS_DBT_EXECUTOR``), follows dbt's
structured events and publishes each node's final outcome to the run's
report (see run_report.py) a fraction of a second after dbt decides it. It
builds the nodes whose tasks have not succeeded yet in this run: every node
on the first try, what remains when it is retried after a crash.

It fails only when dbt could not run (no results at all); failed models are
shown by their own tasks and by the run's ``dbt_done`` task.

A node that fails because the warehouse connection dropped is built again
in the same try (``DATAOPS_DBT_TRANSIENT_RETRIES``, default once), with what
dbt skipped after it: its failure, and those skips, are held back from the
report until dbt has exited, and when every failure of the build was a
connection error (dataops.dbt.transient) the held nodes are built again and
their new outcomes published instead. Any other failure is final at once.
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
        publish_note: str = "",
        **kwargs,
    ):
        super().__init__(**kwargs)
        # Why the DAG builds straight into production (DbtDag(publish="auto") on a project that cannot
        # build in a place of its own), logged at each run; "" otherwise.
        self.publish_note = publish_note
        # task_id -> (unique_id, selector) for every dbt task of the DAG.
        self.nodes = dict(nodes)
        self.select = list(select)
        self.exclude = list(exclude)
        self.threads = threads

    def execute(self, context):
        ti, dag_run = context["ti"], context["dag_run"]
        report = RunReport(run_epoch=run_epoch(dag_run), try_number=ti.try_number, project_dir=self.project_dir)
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
        from dataops.airflow.publishing import publish_run
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

        if self.publish_note:
            self.log.warning("%s", self.publish_note)
        wap = self.run_publish(context, [uid for uid, _ in self.nodes.values()], claim=True)
        if wap is not None:
            wap.prepare(self.log)
        defer = wap.defer_args(self.project_dir) if wap else ()
        place = wap.place.schema if wap else None
        invocation = DbtInvocation(select=tuple(select), exclude=tuple(exclude), threads=self.threads, extra_args=defer)
        publisher.start()
        expected = {uid for uid, _ in todo.values()}
        selectors = dict(todo.values())
        retries = _transient_retries()
        outcomes: dict = {}
        rerun = 0
        while True:
            held: dict = {}

            def on_outcome(outcome, held=held, hold=rerun < retries):
                if hold and _maybe_transient(outcome):
                    held[outcome.unique_id] = outcome  # published once dbt has exited: see below
                    return
                publisher.add(outcome.unique_id, outcome.to_json())

            job = self.run_dbt(ti, invocation, expected=expected, on_outcome=on_outcome, rerun=rerun,
                               models_schema=place)
            outcomes.update(job.outcomes)
            again = _transient_rerun(job, held) if held else set()
            if not again:
                for uid, outcome in held.items():
                    publisher.add(uid, outcome.to_json())
                break
            rerun += 1
            dropped = sorted(uid for uid in again if job.outcomes[uid].state == "failed")
            self.log.warning(
                "the warehouse connection dropped under %d node(s) (%s): building them again with the %d node(s) "
                "dbt skipped after them (%s %d of %d): %s",
                len(dropped), ", ".join(dropped[:10]), len(again) - len(dropped), "rerun", rerun, retries,
                _first_line(job.outcomes[dropped[0]].failures),
            )
            expected = again
            invocation = DbtInvocation(select=tuple(sorted(selectors[uid] for uid in again)), threads=self.threads,
                                       extra_args=defer)

        result, reported = job.result, len(outcomes)
        failed = sorted(uid for uid, outcome in outcomes.items() if outcome.state == "failed")
        error = None
        if job.missing:
            missing = f"{len(job.missing)} of {len(job.expected)} nodes"
            what = "could not run" if not reported else f"ended without reporting {missing}"
            error = f"dbt {what} (exit code {result.returncode}):\n{result.failure_reason()}"
        publication = None
        if wap is not None and reported:
            node_states = {uid: outcomes[uid].state if uid in outcomes else states.get(tid)
                           for tid, (uid, _) in self.nodes.items()}
            # The old run places are dropped once the publication is reported: dbt_done ends with it.
            publication = publish_run(wap, self.publish, node_states, self.log, cleanup=False)
        for uid, outcome in outcomes.items():
            # Once more, with what run_results.json added (rows affected): the run's history reads this report.
            publisher.add(uid, outcome.to_json())
        publisher.finish(result.returncode, error, publication)
        if publication is not None and publication["state"] == "published":
            wap.cleanup(self.log)
        self.log.info(
            "dbt %s exited %s in %.1fs: %d nodes reported, %d failed%s%s",
            invocation.command,
            result.returncode,
            result.duration_s,
            reported,
            len(failed),
            f" ({', '.join(failed[:10])})" if failed else "",
            f", after {rerun} rerun(s) for dropped connections" if rerun else "",
        )
        if not reported:
            raise AirflowException(error)
        return {"returncode": result.returncode, "failed": failed, "where": result.where, "reruns": rerun}


def _transient_retries() -> int:
    from dataops.airflow.runtime import runtime_settings

    return runtime_settings().dbt_transient_retries


def _maybe_transient(outcome) -> bool:
    """A failure for a dropped connection, or a node dbt skipped (perhaps after one): held back."""
    from dataops.dbt.transient import all_connection_errors

    return outcome.state == "skipped" or (outcome.state == "failed" and all_connection_errors(outcome.failures))


def _transient_rerun(job, held: dict) -> set[str]:
    """The held nodes to build again: when every failure of ``job`` was a dropped connection, else none."""
    from dataops.dbt.transient import all_connection_errors

    failed = [o for o in job.outcomes.values() if o.state == "failed"]
    if job.missing or not failed or not all(all_connection_errors(o.failures) for o in failed):
        return set()
    return set(held)


def _first_line(messages) -> str:
    """The driver's words in dbt's message ("Database Error in model x" comes first)."""
    from dataops.dbt.transient import is_connection_error

    lines = [line.strip() for message in messages for line in (message or "").splitlines() if line.strip()]
    return next((line for line in lines if is_connection_error(line)), lines[0] if lines else "")


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

    def finish(self, returncode: int, error: str | None, publication: dict | None = None) -> None:
        with self.lock:
            self.report.final = True
            self.report.returncode = returncode
            self.report.error = error
            self.report.publication = publication
            self.dirty = True
        self._flush()

    def _loop(self) -> None:
        while not self.stopping.wait(_PUSH_INTERVAL_S):
            try:
                self._flush()
            except Exception:  # noqa: BLE001  (the next push sends everything; finish() pushes the last)
                self.log.exception("could not publish dbt's results so far; trying again")
                with self.lock:
                    self.dirty = True
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
