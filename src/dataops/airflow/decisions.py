"""What a waiting dbt task does next, given what its DAG run looks like now.

Pure functions of (the producer's report, the run's task states), so the
rules are tested without Airflow running. The triggers call them each time
their run's snapshot changes.

A task whose node was not built because something upstream of it failed is
decided ``upstream_failed``, what Airflow's own trigger rules would say (how
the triggerer records it: ``dataops.airflow.triggers``).
"""

from __future__ import annotations

from dataclasses import dataclass

from dataops.airflow.run_report import NOT_BUILT_STATES, TERMINAL_TASK_STATES, RunReport


@dataclass(frozen=True)
class Decision:
    # "wait", "finish" (end the task in `state`: success, failed or
    # upstream_failed), "rebuild" (resume on a worker and build this node alone),
    # or "publish" (the run's last task: resume on a worker and publish the run).
    action: str
    state: str = ""
    message: str = ""
    outcome: dict | None = None


WAIT = Decision("wait")


@dataclass(frozen=True)
class NodeView:
    """The task's own facts: its node, its run's start (run_epoch), its upstream tasks."""

    unique_id: str
    run_epoch: str
    producer_task_id: str
    upstream_task_ids: tuple[str, ...] = ()


def decide_node(view: NodeView, report: RunReport | None, states: dict[str, str | None]) -> Decision:
    live = report if report is not None and report.run_epoch == view.run_epoch else None
    if live is not None:
        outcome = live.nodes.get(view.unique_id)
        if outcome is not None:
            # dbt skips a node only when something it depends on failed.
            state = "upstream_failed" if outcome["state"] == "skipped" else outcome["state"]
            return Decision("finish", state, outcome.get("summary", ""), outcome)
        if live.final:
            reason = live.error or "dbt did not report this node (see the dbt_build task's log)"
            return Decision("finish", "failed", reason)
        producer_state = states.get(view.producer_task_id)
        if producer_state in TERMINAL_TASK_STATES:
            return Decision("finish", "failed", f"{view.producer_task_id} ended {producer_state} before dbt reported this node")
        return WAIT

    producer_state = states.get(view.producer_task_id)
    if producer_state not in TERMINAL_TASK_STATES:
        return WAIT  # the producer has yet to run (or report) for this start of the run
    if report is None:
        if producer_state == "success":
            return _after_upstream(view, states)
        return Decision("finish", "failed", f"{view.producer_task_id} ended {producer_state} before running dbt")
    # The producer's report is from an earlier start of the run: this task was
    # cleared on its own (a retry), so it builds its node itself once its
    # upstream is done.
    return _after_upstream(view, states)


def _after_upstream(view: NodeView, states: dict[str, str | None]) -> Decision:
    pending = [t for t in view.upstream_task_ids if states.get(t) not in TERMINAL_TASK_STATES]
    if pending:
        return WAIT
    not_built = [t for t in view.upstream_task_ids if states.get(t) in NOT_BUILT_STATES]
    if not_built:
        upstream = ", ".join(sorted(not_built))
        return Decision("finish", "upstream_failed", f"not built: upstream {upstream} did not succeed")
    return Decision("rebuild")


def _why(uid: str, outcome: dict | None) -> str:
    """"model.p.x (failed: dbt reported failures: test not_null_x_id)": the node, and the test that failed."""
    if not outcome:
        return f"{uid} (not reported)"
    state = outcome.get("state", "not reported")
    return f"{uid} ({state}: {outcome['summary']})" if state == "failed" and outcome.get("summary") else f"{uid} ({state})"


def decide_publication(verdict: Decision, report: RunReport | None, run_epoch: str | None) -> Decision:
    """A test-gated run's last verdict: a green run is finished by its publish.

    The producer's report for this start of the run says whether its dbt_build
    published (``publication``); when it has not (some tasks were cleared and
    rebuilt, or the report is from an earlier start), the run's last task
    publishes on a worker. A red verdict stands: nothing is published.
    """
    if verdict.action != "finish" or verdict.state != "success":
        return verdict
    if report is None or report.run_epoch != run_epoch:
        return Decision("publish", message=verdict.message)
    publication = report.publication
    if publication is None:
        return Decision("publish", message=verdict.message) if report.final else WAIT
    if publication.get("state") == "published":
        return Decision("finish", "success", f"{verdict.message}; {publication.get('message', 'published')}")
    if publication.get("state") == "held":
        return Decision("publish", message=verdict.message)  # the producer saw a failure the tasks no longer show
    return Decision("finish", "failed", publication.get("message") or "the publish failed")


def decide_summary(
    task_ids: tuple[str, ...],
    states: dict[str, str | None],
    report: RunReport | None = None,
    unique_ids: tuple[str, ...] = (),
    run_epoch: str | None = None,
) -> Decision:
    """The run's last task: failed if any dbt task did not succeed.

    When the producer's report for this start of the run has every node's
    outcome, it decides from the report, even before dbt has exited, without
    waiting for the node tasks' own ends to be recorded: that saves the
    triggerer a round trip at the end of every run. A report that lacks some
    nodes (a retried producer builds only what an earlier try left; dbt may
    stop early) leaves the verdict to the node tasks' states.
    """
    live = report is not None and report.run_epoch == run_epoch and bool(unique_ids)
    if live and all(uid in report.nodes for uid in unique_ids):
        outcomes = report.nodes
        bad = sorted(uid for uid in unique_ids if (outcomes.get(uid) or {}).get("state") != "success")
        if not bad:
            warned = [f"{uid} ({outcomes[uid]['summary']})" for uid in unique_ids if "warned" in outcomes[uid].get("summary", "")]
            shown = f"; warnings: {', '.join(warned)}" if warned else ""
            return Decision("finish", "success", f"all {len(unique_ids)} dbt nodes succeeded{shown}")
        shown = ", ".join(_why(uid, outcomes.get(uid)) for uid in bad[:20])
        return Decision("finish", "failed", f"{len(bad)} dbt nodes did not succeed: {shown}")
    if any(states.get(t) not in TERMINAL_TASK_STATES for t in task_ids):
        return WAIT
    bad = sorted(t for t in task_ids if states.get(t) in NOT_BUILT_STATES)
    if bad:
        shown = ", ".join(f"{t} ({states[t]})" for t in bad[:20])
        more = f" and {len(bad) - 20} more" if len(bad) > 20 else ""
        return Decision("finish", "failed", f"{len(bad)} dbt tasks did not succeed: {shown}{more}")
    return Decision("finish", "success", f"all {len(task_ids)} dbt tasks succeeded")
