"""Reading dbt's run_results.json and naming what failed."""

from __future__ import annotations

import json
from pathlib import Path

from dataops.dbt.results import RunResults
from dataops.dbt.runner import DbtInvocation, DbtRun, describe_failure


def _write(path: Path, results: list[dict]) -> Path:
    path.write_text(json.dumps({"results": results, "elapsed_time": 1.5}))
    return path


def test_names_keep_their_dots(tmp_path):
    results = RunResults.from_file(
        _write(
            tmp_path / "run_results.json",
            [
                {"unique_id": "model.tickit.top_sales_99.9_percentile_model", "status": "success", "execution_time": 0.2},
                {"unique_id": "test.tickit.not_null_x_y.abc123", "status": "fail", "execution_time": 0.1, "failures": 3,
                 "message": "Got 3 results, configured to fail if != 0"},
            ],
        )
    )
    model, test = results.nodes
    assert model.name == "top_sales_99.9_percentile_model" and model.resource_type == "model"
    assert test.name == "not_null_x_y" and test.failed and not model.failed
    assert results.failed == (test,)


def test_failure_message_names_the_failed_nodes(tmp_path):
    results = RunResults.from_file(
        _write(
            tmp_path / "run_results.json",
            [{"unique_id": "model.tickit.broken", "status": "error", "execution_time": 0.1,
              "message": 'Parser Error: syntax error at or near "selec"\nmore'}],
        )
    )
    run = DbtRun(DbtInvocation(), returncode=1, target_path=tmp_path, duration_s=1.0, results=results)
    message = describe_failure(run)
    assert "model broken: error" in message and "syntax error" in message


def test_failure_without_results_points_at_the_log_when_there_is_one(tmp_path):
    run = DbtRun(DbtInvocation(), 2, tmp_path, 0.5, None, errors=("Could not find profile named 'x'",))
    assert "Could not find profile" in describe_failure(run) and "dbt.log" not in describe_failure(run)
    (tmp_path / "dbt.log").write_text("...")
    assert str(tmp_path / "dbt.log") in describe_failure(run)


def test_failure_before_any_event_carries_dbts_plain_words(tmp_path):
    error = "Error: Invalid value for '--profiles-dir': Path '~/.dbt' does not exist."
    run = DbtRun(DbtInvocation(), 2, tmp_path, 0.5, None, plain_output=("Usage: dbt parse [OPTIONS]", error))
    assert error in describe_failure(run)
