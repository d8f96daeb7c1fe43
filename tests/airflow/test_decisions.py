"""The rules a waiting dbt task follows (see decisions.py)."""

from dataops.airflow.decisions import NodeView, decide_node, decide_publication, decide_summary
from dataops.airflow.run_report import RunReport

FIRST, SECOND = "2026-01-01T00:00:00.000000+00:00", "2026-01-01T00:05:00.000000+00:00"
VIEW = NodeView("model.p.b", run_epoch=FIRST, producer_task_id="dbt_build", upstream_task_ids=("a",))
OK = {"state": "success", "summary": "dbt: success", "log": ["b OK"]}


def report(epoch=FIRST, final=False, **nodes):
    return RunReport(run_epoch=epoch, try_number=1, final=final, nodes={f"model.p.{k}": v for k, v in nodes.items()})


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
    old = report(epoch=FIRST, final=True, b={"state": "failed"})
    cleared = NodeView("model.p.b", run_epoch=SECOND, producer_task_id="dbt_build", upstream_task_ids=("a",))
    assert decide_node(cleared, old, {"dbt_build": "success", "a": "deferred"}).action == "wait"
    assert decide_node(cleared, old, {"dbt_build": "success", "a": "success"}).action == "rebuild"
    for upstream_state in ("failed", "upstream_failed"):
        not_built = decide_node(cleared, old, {"dbt_build": "success", "a": upstream_state})
        assert (not_built.action, not_built.state) == ("finish", "upstream_failed")
        assert "upstream a did not succeed" in not_built.message


def test_a_node_dbt_skipped_after_a_failure_is_upstream_failed():
    skipped = {"state": "skipped", "summary": "dbt skipped this node: something it depends on failed"}
    d = decide_node(VIEW, report(b=skipped), {"dbt_build": "running"})
    assert (d.action, d.state, d.outcome) == ("finish", "upstream_failed", skipped)
    assert "something it depends on failed" in d.message


def test_a_cleared_task_waits_while_an_older_producer_still_runs():
    cleared = NodeView("model.p.b", run_epoch=SECOND, producer_task_id="dbt_build")
    assert decide_node(cleared, report(epoch=FIRST), {"dbt_build": "running"}).action == "wait"


def test_summary_from_states():
    assert decide_summary(("a", "b"), {"a": "success", "b": "deferred"}).action == "wait"
    assert decide_summary(("a", "b"), {"a": "success", "b": "success"}).state == "success"
    bad = decide_summary(("a", "b"), {"a": "failed", "b": "skipped"})
    assert bad.state == "failed" and "a (failed)" in bad.message and "b (skipped)" in bad.message


def test_summary_from_a_final_report_of_this_start_of_the_run():
    done = report(final=True, a=OK, b={"state": "skipped"})
    d = decide_summary(("a", "b"), {}, done, ("model.p.a", "model.p.b"), FIRST)
    assert d.state == "failed" and "model.p.b (skipped)" in d.message
    stale = decide_summary(("a", "b"), {"a": "deferred"}, done, ("model.p.a", "model.p.b"), SECOND)
    assert stale.action == "wait"


def test_summary_after_a_retried_producer_goes_by_the_task_states():
    # The first try built a, then its worker died; the retry built b only.
    ids = ("model.p.a", "model.p.b")
    retry = report(final=True, b=OK)
    assert decide_summary(("a", "b"), {"a": "success", "b": "deferred"}, retry, ids, FIRST).action == "wait"
    assert decide_summary(("a", "b"), {"a": "success", "b": "success"}, retry, ids, FIRST).state == "success"
    stopped = report(final=True)  # dbt reported nothing: the node tasks fail, and so does the run
    failed = decide_summary(("a", "b"), {"a": "failed", "b": "failed"}, stopped, ids, FIRST)
    assert failed.state == "failed"


def test_summary_decides_once_every_node_is_reported_before_dbt_exits():
    ids = ("model.p.a", "model.p.b")
    partial = report(a=OK)
    assert decide_summary(("a", "b"), {}, partial, ids, FIRST).action == "wait"
    assert decide_summary(("a", "b"), {}, report(a=OK, b=OK), ids, FIRST).state == "success"
    failed = decide_summary(("a", "b"), {}, report(a=OK, b={"state": "failed"}), ids, FIRST)
    assert failed.state == "failed" and "model.p.b (failed)" in failed.message


def test_run_epoch_is_the_runs_start_in_utc():
    from datetime import datetime, timedelta, timezone
    from types import SimpleNamespace

    from dataops.airflow.run_report import run_epoch

    utc = datetime(2026, 1, 1, 12, 0, 0, 5, tzinfo=timezone.utc)
    paris = utc.astimezone(timezone(timedelta(hours=1)))
    assert run_epoch(SimpleNamespace(start_date=utc)) == run_epoch(SimpleNamespace(start_date=paris))
    assert run_epoch(SimpleNamespace(start_date=utc.replace(tzinfo=None))) == run_epoch(SimpleNamespace(start_date=utc))
    assert run_epoch(None) == ""


# --- test-gated publish: a green verdict is finished by the publish -----------------------------

GREEN = decide_summary(("a",), {}, report(a=OK), ("model.p.a",), FIRST)
WARNED = {"state": "success", "summary": "dbt: success (1 tests warned: test small_values)"}


def _published(state, message="published version 3 of shop"):
    r = report(final=True, a=OK)
    r.publication = {"state": state, "message": message}
    return r


def test_a_green_run_waits_for_its_producers_publish_and_ends_with_it():
    assert decide_publication(GREEN, report(a=OK), FIRST).action == "wait"
    done = decide_publication(GREEN, _published("published"), FIRST)
    assert (done.action, done.state) == ("finish", "success") and "published version 3" in done.message
    failed = decide_publication(GREEN, _published("failed", "publish failed, production is unchanged: x"), FIRST)
    assert (failed.action, failed.state, failed.message) == ("finish", "failed", "publish failed, production is unchanged: x")


def test_a_cleared_run_publishes_on_a_worker():
    # The report is from the run's first start (its tasks were cleared), or dbt_build published nothing.
    assert decide_publication(GREEN, report(epoch=FIRST, final=True, a=OK), SECOND).action == "publish"
    assert decide_publication(GREEN, report(final=True, a=OK), FIRST).action == "publish"
    assert decide_publication(GREEN, _published("held"), FIRST).action == "publish"


def test_a_red_verdict_publishes_nothing_and_names_the_failing_test():
    failing = {"state": "failed", "summary": "dbt reported failures: test accepted_range_b_percentile"}
    red = decide_summary(("b",), {}, report(b=failing), ("model.p.b",), FIRST)
    assert decide_publication(red, _published("held"), FIRST) == red
    assert "model.p.b (failed: dbt reported failures: test accepted_range_b_percentile)" in red.message


def test_warned_tests_are_in_the_runs_verdict():
    verdict = decide_summary(("a",), {}, report(a=WARNED), ("model.p.a",), FIRST)
    assert verdict.state == "success" and "warnings: model.p.a (dbt: success (1 tests warned" in verdict.message
