"""dbt's JSON events -> per-task outcomes, on a recorded run of TICKIT with
percentile_sales_model broken (so top_sales_99.9_percentile_model is skipped)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataops.dbt.events import OutcomeTracker, clean
from dataops.dbt.graph import DbtGraph

DATA = Path(__file__).parent / "data"
BROKEN = "model.tickit.percentile_sales_model"
SKIPPED = "model.tickit.top_sales_99.9_percentile_model"


@pytest.fixture
def graph() -> DbtGraph:
    return DbtGraph.read(DATA / "tickit_graph.json")


def events():
    return [json.loads(line) for line in (DATA / "tickit_broken_events.jsonl").read_text().splitlines()]


def test_outcomes_from_events_alone(graph):
    tracker = OutcomeTracker(graph)
    order = []
    for event in events():
        order += [o.unique_id for o in tracker.feed(event)]
    order += [o.unique_id for o in tracker.finish(None)]
    outcomes = tracker.outcomes
    assert set(outcomes) == set(graph.nodes)
    assert outcomes[BROKEN].state == "failed"
    assert outcomes[SKIPPED].state == "skipped"
    assert outcomes["model.tickit.all_gross_sales_model"].state == "success"
    assert outcomes["model.tickit.top_buyer_data_model"].state == "success"
    assert outcomes["source.tickit.tickit.sales"].state == "success"
    # good nodes are reported while dbt runs, before the failure (whose
    # message only comes in dbt's end-of-run summary)
    assert order.index("model.tickit.all_gross_sales_model") < order.index(BROKEN)


def test_a_failure_carries_dbts_error_and_its_own_log_lines(graph):
    tracker = OutcomeTracker(graph)
    for event in events():
        tracker.feed(event)
    failed = tracker.outcomes[BROKEN]
    text = "\n".join(failed.log)
    assert "percentile_sales_model" in text and "nonsense_col" in text
    assert "all_gross_sales_model" not in "\n".join(line for line in failed.log if "START" in line)
    assert "\x1b[" not in text


def test_timing_covers_the_model_and_its_tests(graph):
    tracker = OutcomeTracker(graph)
    for event in events():
        tracker.feed(event)
    ok = tracker.outcomes["model.tickit.all_gross_sales_model"]
    assert ok.started_at and ok.finished_at and ok.started_at < ok.finished_at
    assert ok.execution_time > 0
    assert any("unique_all_gross_sales_model_eventid" in line for line in ok.log)


def test_run_results_settle_what_events_missed(graph):
    tracker = OutcomeTracker(graph)
    run_results = json.loads((DATA / "tickit_broken_run_results.json").read_text())
    tracker.finish(run_results)
    assert tracker.outcomes[BROKEN].state == "failed"
    assert "nonsense_col" in "\n".join(tracker.outcomes[BROKEN].log)
    assert tracker.outcomes[SKIPPED].state == "skipped"


def test_only_expected_nodes_are_tracked(graph):
    tracker = OutcomeTracker(graph, expected={"model.tickit.top_buyers_by_quantity_model"})
    for event in events():
        tracker.feed(event)
    tracker.finish(None)
    assert set(tracker.outcomes) == {"model.tickit.top_buyers_by_quantity_model"}


def test_clean_strips_colours():
    assert clean("\x1b[32mOK\x1b[0m done  ") == "OK done"


def test_a_failures_error_is_in_its_log_once_and_marked_as_an_error(graph):
    tracker = OutcomeTracker(graph)
    for event in events():
        tracker.feed(event)
    failed = tracker.outcomes[BROKEN].to_json()
    binder = [line for line in failed["log"] if "Binder Error" in line]
    assert len(binder) == 1, failed["log"]
    assert binder[0] in failed["errors"]
    assert set(failed["errors"]) <= set(failed["log"])
    assert not any("START" in line for line in failed["errors"])
    assert tracker.outcomes["model.tickit.all_gross_sales_model"].errors == []


def test_an_error_only_run_results_had_is_added_once(graph):
    tracker = OutcomeTracker(graph)
    tracker.finish(json.loads((DATA / "tickit_broken_run_results.json").read_text()))
    failed = tracker.outcomes[BROKEN]
    assert [line for line in failed.log if "nonsense_col" in line] == failed.errors
    assert len(failed.errors) == 1


def test_a_warning_test_leaves_its_model_successful_and_says_so(graph):
    run_results = json.loads((DATA / "tickit_broken_run_results.json").read_text())
    owner = "model.tickit.all_gross_sales_model"
    test_uid = next(t for t in graph.nodes[owner].tests if "unique" in t)
    for result in run_results["results"]:
        if result["unique_id"] == test_uid:
            result["status"] = "warn"
    tracker = OutcomeTracker(graph)
    tracker.finish(run_results)
    outcome = tracker.outcomes[owner]
    assert outcome.state == "success"
    assert "(1 tests warned: test unique_all_gross_sales_model_eventid)" in outcome.summary
