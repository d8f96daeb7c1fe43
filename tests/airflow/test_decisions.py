"""The rules a waiting dbt task follows (see decisions.py)."""

from dataops.airflow.decisions import NodeView, decide_node, decide_summary
from dataops.airflow.run_report import RunReport

VIEW = NodeView("model.p.b", clear_number=0, producer_task_id="dbt_build", upstream_task_ids=("a",))
OK = {"state": "success", "summary": "dbt: success", "log": ["b OK"]}


def report(clear=0, final=False, **nodes):
    return RunReport(clear_number=clear, try_number=1, final=final, nodes={f"model.p.{k}": v for k, v in nodes.items()})


def test_waits_for_the_producer_of_this_run():
    assert decide_node(VIEW, None, {"dbt_build": "queued"}).action == "wait"
    assert decide_node(VIEW, report(a=OK), {"dbt_build": "running"}).action == "wait"


def test_finishes_with_its_outcome():
    d = decide_node(VIEW, report(b=OK), {"dbt_build": "running"})
    assert (d.action, d.state) == ("finish", "success")
    failed = decide_node(VIEW, report(b={"state": "failed", "summary": "boom"}), {})
    assert (failed.state, failed.message) == ("failed", "boom")


def test_fails_when_dbt_ended_without_it():
    d = decide_node(VIEW, report(final=True), {"dbt_build": "success"})
    assert d.state == "failed" and "did not report" in d.message
    crashed = decide_node(VIEW, report(), {"dbt_build": "failed"})
    assert crashed.state == "failed"
    never = decide_node(VIEW, None, {"dbt_build": "failed"})
    assert never.state == "failed" and "before running dbt" in never.message


def test_a_cleared_task_rebuilds_after_its_upstream():
    old = report(clear=0, final=True, b={"state": "failed"})
    cleared = NodeView("model.p.b", clear_number=1, producer_task_id="dbt_build", upstream_task_ids=("a",))
    assert decide_node(cleared, old, {"dbt_build": "success", "a": "deferred"}).action == "wait"
    assert decide_node(cleared, old, {"dbt_build": "success", "a": "success"}).action == "rebuild"
    skipped = decide_node(cleared, old, {"dbt_build": "success", "a": "failed"})
    assert (skipped.action, skipped.state) == ("finish", "skipped")


def test_a_cleared_task_waits_while_an_older_producer_still_runs():
    cleared = NodeView("model.p.b", clear_number=1, producer_task_id="dbt_build")
    assert decide_node(cleared, report(clear=0), {"dbt_build": "running"}).action == "wait"


def test_summary_from_states():
    assert decide_summary(("a", "b"), {"a": "success", "b": "deferred"}).action == "wait"
    assert decide_summary(("a", "b"), {"a": "success", "b": "success"}).state == "success"
    bad = decide_summary(("a", "b"), {"a": "failed", "b": "skipped"})
    assert bad.state == "failed" and "a (failed)" in bad.message and "b (skipped)" in bad.message


def test_summary_from_a_final_report_of_this_clear():
    done = report(final=True, a=OK, b={"state": "skipped"})
    d = decide_summary(("a", "b"), {}, done, ("model.p.a", "model.p.b"), 0)
    assert d.state == "failed" and "model.p.b (skipped)" in d.message
    stale = decide_summary(("a", "b"), {"a": "deferred"}, done, ("model.p.a", "model.p.b"), 1)
    assert stale.action == "wait"
