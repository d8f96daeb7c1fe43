"""What a model task's log says about its dbt node: one record, dbt's time last."""

import logging

from dataops.airflow.triggers import log_dbt_outcome

OUTCOME = {
    "state": "success",
    "execution_time": 1.234,
    "started_at": "2026-11-30T02:00:00Z",
    "finished_at": "2026-11-30T02:00:01Z",
    "log": ["1 of 2 START sql table model tickit.sales", "1 of 2 OK created sql table model tickit.sales"],
    "errors": [],
}


def _records(caplog, outcome, state="success", note=""):
    logger = logging.getLogger("test.trigger_log")
    with caplog.at_level(logging.INFO, logger=logger.name):
        log_dbt_outcome(outcome, state, logger, note)
    return [r for r in caplog.records if r.name == logger.name]


def test_dbt_lines_and_time_arrive_as_one_record_ending_with_the_time(caplog):
    (record,) = _records(caplog, OUTCOME, note="; from the run's start")
    lines = record.getMessage().splitlines()
    assert lines[:2] == OUTCOME["log"]
    assert lines[-1] == (
        "dbt success: 1.23s execution time (started 2026-11-30T02:00:00Z, finished 2026-11-30T02:00:01Z); from the run's start"
    )
    assert record.levelno == logging.INFO


def test_a_record_with_dbts_error_is_an_error(caplog):
    failed = {**OUTCOME, "log": ["1 of 2 ERROR creating sql table model", "Parser Error"], "errors": ["Parser Error"]}
    (record,) = _records(caplog, failed, state="failed")
    assert record.levelno == logging.ERROR
    assert record.getMessage().splitlines()[-1].startswith("dbt failed: 1.23s execution time")


def test_no_outcome_logs_nothing(caplog):
    assert _records(caplog, {}, state="skipped") == []
