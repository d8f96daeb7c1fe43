"""The demo's message for a failed run: which tasks, and dbt's error for each failed model.

The report is shaped as the ``dbt_build`` task pushes it (``dbt_results``),
its node log as dbt wrote it for a model with a syntax error on PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

from dataops.local.run_failure import FailedRun, dbt_error, describe, read_failed_run

DB_ERROR = (
    "  Database Error in model top_buyers_by_quantity_model (models/marts/top_buyers_by_quantity_model.sql)\n"
    '  syntax error at or near ","\n'
    '  LINE 12:     select buyerid,, from "wh"."ticki...\n'
    "                              ^\n"
    "  compiled code at /state/runs/redshift_transformations/manual/dbt_build.1/run/tickit/models/marts/x.sql"
)
FAILED_MODEL_LOG = [
    "28 of 54 START sql table model analytics.top_buyers_by_quantity_model .......... [RUN]",
    "28 of 54 ERROR creating sql table model analytics.top_buyers_by_quantity_model . [ERROR in 0.83s]",
    "29 of 54 SKIP test accepted_range_top_buyers_by_quantity_model_total_quantity__1  [SKIP]",
    "Failure in model top_buyers_by_quantity_model (models/marts/top_buyers_by_quantity_model.sql)",
    DB_ERROR,
    DB_ERROR,
]
SUMMARY = "dbt reported failures: model top_buyers_by_quantity_model"
REPORT = {
    "final": True,
    "error": None,
    "nodes": {
        "model.tickit.top_buyers_by_quantity_model": {"state": "failed", "summary": SUMMARY, "log": FAILED_MODEL_LOG},
        "model.tickit.all_gross_sales_model": {"state": "success", "summary": "dbt: success", "log": ["1 of 54 OK"]},
    },
}
TASKS = {
    "dbt_build": "success",
    "top_buyers_by_quantity_model": "failed",
    "top_buyer_data_model": "upstream_failed",
    "all_gross_sales_model": "success",
    "dbt_done": "failed",
}


class FakeApi:
    def __init__(self, xcoms: dict[tuple[str, str], object]):
        self.xcoms = xcoms

    def xcom(self, dag_id, run_id, task_id, key):
        return self.xcoms.get((task_id, key))


def test_each_failed_model_shows_the_first_lines_of_dbts_error():
    api = FakeApi({
        ("top_buyers_by_quantity_model", "dbt_outcome"): {"state": "failed", "summary": SUMMARY},
        ("dbt_build", "dbt_results"): REPORT,
    })
    message = describe(read_failed_run(api, "redshift_transformations", "r1", "failed", TASKS), Path("/logs"))
    assert message.splitlines() == [
        "the DAG redshift_transformations ended failed; tasks not successful: "
        "dbt_done, top_buyer_data_model, top_buyers_by_quantity_model.",
        "  model top_buyers_by_quantity_model:",
        "    Failure in model top_buyers_by_quantity_model (models/marts/top_buyers_by_quantity_model.sql)",
        "      Database Error in model top_buyers_by_quantity_model (models/marts/top_buyers_by_quantity_model.sql)",
        '      syntax error at or near ","',
        '      LINE 12:     select buyerid,, from "wh"."ticki...',
        "                                  ^",
        "      compiled code at /state/runs/redshift_transformations/manual/dbt_build.1/run/tickit/models/marts/x.sql",
        "Task logs are under /logs; `dataops up` shows the run in the UI.",
    ]


def test_dbts_error_is_what_follows_the_last_progress_line_said_once():
    assert dbt_error(FAILED_MODEL_LOG) == f"Failure in model top_buyers_by_quantity_model " \
        f"(models/marts/top_buyers_by_quantity_model.sql)\n{DB_ERROR}"
    assert dbt_error(["1 of 2 OK created sql table model a"]) == ""


def test_a_long_error_is_cut_to_its_first_lines():
    long = "\n".join(f"line {n}" for n in range(40))
    run = FailedRun("d", "failed", {"m": "failed"}, {"m": long})
    body = describe(run, Path("logs")).splitlines()
    assert body[1:9] == ["  m:"] + [f"    line {n}" for n in range(6)] + ["    ..."]


def test_a_task_the_report_does_not_hold_shows_its_own_summary():
    api = FakeApi({("m", "dbt_outcome"): {"state": "failed", "summary": "dbt reported failures: test unique_m_id"}})
    message = describe(read_failed_run(api, "d", "r", "failed", {"m": "failed"}), Path("logs"))
    assert "  m:\n    dbt reported failures: test unique_m_id" in message


def test_when_dbt_stopped_before_any_model_its_own_error_is_shown():
    stopped = {"nodes": {}, "error": 'Encountered an error:\nDatabase Error\n  role "nobody" does not exist'}
    api = FakeApi({("dbt_build", "dbt_results"): stopped})
    message = describe(read_failed_run(api, "d", "r", "failed", {"dbt_build": "failed"}), Path("logs"))
    assert '  dbt_build:\n    Encountered an error:\n    Database Error\n      role "nobody" does not exist' in message
