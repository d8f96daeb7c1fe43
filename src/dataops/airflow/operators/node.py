"""One task per dbt node, started in the triggerer, and the run's last task.

A ``DbtNodeOperator`` never takes a worker in a normal run: it starts in the
triggerer (``start_from_trigger``), where :class:`DbtNodeTrigger` waits for
its node's outcome in the producer's report and ends the task with it.
Its trigger rule is ``always`` so that every node task is waiting from the
start of the run and ends as soon as dbt finishes its node; waiting for
upstream tasks in Airflow would add the scheduler's and triggerer's
round trip once per level of the graph. The edges still show the
manifest's dependencies and drive "clear with downstream".

When a task was cleared on its own (a retry of a failed model), no dbt run
of the DAG run covers it: the trigger waits for its upstream tasks, then
resumes the task on a worker, which builds that node alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from airflow.sdk.exceptions import AirflowException, AirflowSkipException
from airflow.triggers.base import StartTriggerArgs

from dataops.airflow.operators.job import DbtJobOperator

_NODE_TRIGGER = "dataops.airflow.triggers.DbtNodeTrigger"
_SUMMARY_TRIGGER = "dataops.airflow.triggers.DbtSummaryTrigger"


class DbtNodeOperator(DbtJobOperator):
    """The task of one dbt model, seed, snapshot or tested source."""

    ui_color = "#fbe3dd"
    start_from_trigger = True

    def __init__(
        self,
        *,
        unique_id: str,
        selector: str,
        producer_task_id: str,
        upstream_node_task_ids: Sequence[str] = (),
        **kwargs,
    ):
        kwargs.setdefault("trigger_rule", "always")
        # An automatic retry would read the same dbt verdict again; a model is
        # retried by clearing its task, which rebuilds it (see the module doc).
        kwargs.setdefault("retries", 0)
        super().__init__(**kwargs)
        self.unique_id = unique_id
        self.selector = selector
        self.start_trigger_args = StartTriggerArgs(
            trigger_cls=_NODE_TRIGGER,
            next_method="execute_complete",
            trigger_kwargs={
                "unique_id": unique_id,
                "producer_task_id": producer_task_id,
                "upstream_task_ids": list(upstream_node_task_ids),
            },
            next_kwargs=None,
            timeout=None,
        )

    def execute(self, context):
        # Only reached without a triggerer (start_from_trigger off, dag.test()).
        return self.build_alone(context)

    def execute_complete(self, context, event=None):
        action = event.get("action") if isinstance(event, dict) else None
        if action == "rebuild":
            return self.build_alone(context)
        if action == "finish":
            return self.record_outcome(context, event)
        raise AirflowException(f"unexpected event for {self.unique_id}: {event!r}")

    def record_outcome(self, context, event: dict):
        """End a cleared run's try with the outcome its trigger saw (see DbtNodeTrigger.run)."""
        from dataops.airflow.triggers import log_dbt_lines

        outcome = event.get("outcome") or {}
        log_dbt_lines(outcome, self.log)
        if outcome:
            context["ti"].xcom_push("dbt_outcome", {k: v for k, v in outcome.items() if k != "log"})
        state, message = event.get("state"), event.get("message") or ""
        if state == "success":
            self.log.info("%s", message)
            return None
        if state == "skipped":
            raise AirflowSkipException(message)
        # failed, or upstream_failed (recorded as failed: see triggers._end_event)
        raise AirflowException(f"{self.unique_id}: {state}: {message}")

    def build_alone(self, context):
        """``dbt build --select <this node>`` (with its tests), here and now."""
        from dataops.dbt.runner import DbtInvocation

        ti = context["ti"]
        wap = self.run_publish(context, [self.unique_id])
        if wap is not None:
            wap.prepare(self.log)  # the same place as the run's first build
        invocation = DbtInvocation(select=(self.selector,), extra_args=wap.defer_args(self.project_dir) if wap else ())
        job = self.run_dbt(ti, invocation, {self.unique_id}, models_schema=wap.place.schema if wap else None)
        outcome = job.outcomes.get(self.unique_id)
        if outcome is None:
            raise AirflowException(
                f"dbt build --select {self.selector} did not report {self.unique_id} "
                f"(exit code {job.result.returncode}):\n{job.result.failure_reason()}"
            )
        ti.xcom_push("dbt_outcome", {k: v for k, v in outcome.to_json().items() if k != "log"})
        self.log.info(
            "dbt %s: %.2fs execution time (started %s, finished %s)",
            outcome.state,
            outcome.execution_time,
            outcome.started_at,
            outcome.finished_at,
        )
        if outcome.state == "failed":
            raise AirflowException(f"{self.unique_id}: {outcome.summary}\n" + "\n".join(outcome.log[-5:]))
        if outcome.state == "skipped":
            raise AirflowSkipException(outcome.summary)
        return None


class DbtSummaryOperator(DbtJobOperator):
    """The run's last task: fails when any dbt task did not succeed, and publishes.

    Airflow decides a run's state from its leaf tasks; a failed model whose
    downstream tasks were skipped would otherwise leave a "successful" run.
    Its trigger ends the first try; a later try (after a clear) comes back
    here with the verdict (see ``DbtSummaryTrigger``). With a test-gated
    publish its verdict is the publish's: ``dbt_build`` publishes when its
    dbt built everything; otherwise (the failed tasks were cleared and
    rebuilt) the trigger resumes this task on a worker, which publishes.
    """

    ui_color = "#e8e8e8"
    start_from_trigger = True

    def __init__(
        self, *, node_task_ids: Sequence[str], node_unique_ids: Sequence[str], producer_task_id: str, **kwargs
    ):
        kwargs.setdefault("trigger_rule", "always")
        # A retry would give the same verdict; the run is retried by clearing.
        kwargs.setdefault("retries", 0)
        super().__init__(**kwargs)
        self.node_uids = dict(zip(node_task_ids, node_unique_ids, strict=True))
        self.start_trigger_args = StartTriggerArgs(
            trigger_cls=_SUMMARY_TRIGGER,
            next_method="execute_complete",
            trigger_kwargs={
                "task_ids": list(node_task_ids),
                "unique_ids": list(node_unique_ids),
                "producer_task_id": producer_task_id,
                "publish": self.publish,
            },
            next_kwargs=None,
            timeout=None,
        )

    def execute(self, context):
        states = context["ti"].get_task_states(dag_id=context["ti"].dag_id, run_ids=[context["ti"].run_id])
        from dataops.airflow.decisions import decide_summary

        decision = decide_summary(tuple(self.start_trigger_args.trigger_kwargs["task_ids"]), states.get(context["ti"].run_id, {}))
        if decision.state != "success":
            raise AirflowException(decision.message or "dbt tasks still running")
        if self.publish != "direct":
            self.publish_run(context)

    def execute_complete(self, context, event=None):
        action = event.get("action") if isinstance(event, dict) else None
        if action == "publish":
            self.log.info("%s", event.get("message") or "every dbt task succeeded")
            return self.publish_run(context)
        if action != "finish":
            raise AirflowException(f"unexpected event: {event!r}")
        if event.get("state") != "success":
            raise AirflowException(event.get("message") or "some dbt tasks did not succeed")
        self.log.info("%s", event.get("message"))

    def publish_run(self, context):
        """Publishes the run's place (what rebuilt tasks left there); fails naming why it could not."""
        from dataops.airflow.publishing import publish_run

        ti = context["ti"]
        states = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id]).get(ti.run_id, {})
        wap = self.run_publish(context, list(self.node_uids.values()))
        node_states = {uid: states.get(tid) for tid, uid in self.node_uids.items()}
        publication = publish_run(wap, self.publish, node_states, self.log)
        if publication["state"] != "published" or any(state != "success" for state in node_states.values()):
            raise AirflowException(publication["message"])
