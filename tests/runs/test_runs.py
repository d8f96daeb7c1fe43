"""dataops.runs on made-up reports: the timeline's bars, critical path and skipped marks, the
history's points and regressions, the pages' marked elements, the CLI's table and PNG."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from dataops.runs.history import history
from dataops.runs.pages import history_page, timeline_page
from dataops.runs.records import RunRecord
from dataops.runs.timeline import timeline

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def member(uid: str, status: str, start: float | None, end: float | None, rows: int | None = None) -> dict:
    at = lambda s: (T0 + timedelta(seconds=s)).isoformat() if s is not None else None  # noqa: E731
    return {"unique_id": uid, "status": status, "started_at": at(start), "finished_at": at(end),
            "execution_time": round(end - start, 3) if start is not None else 0.0, "rows_affected": rows}


def outcome(uid: str, state: str, members: list[dict], depends_on=()) -> dict:
    return {"unique_id": uid, "state": state, "summary": state, "members": members, "depends_on": list(depends_on)}


A, B, C, D = (f"model.p.{n}" for n in "abcd")
TEST_B = "test.p.not_null_b_id.1a2b3c"


def report(b_status: str = "success", b_time: float = 4.0) -> dict:
    """a -> b -> d, a -> c: b is the long branch (or fails, and d is skipped)."""
    failed = b_status == "error"
    nodes = {
        A: outcome(A, "success", [member(A, "success", 0, 1, rows=10)]),
        B: outcome(B, "failed" if failed else "success",
                   [member(B, b_status, 1, 1 + b_time), member(TEST_B, "pass" if not failed else "skipped", None if failed else 1 + b_time, None if failed else 1.5 + b_time)],
                   [A]),
        C: outcome(C, "success", [member(C, "success", 1, 2)], [A]),
        D: outcome(D, "skipped", [member(D, "skipped", None, None)], [B]) if failed
        else outcome(D, "success", [member(D, "success", 1.5 + b_time, 2 + b_time)], [B]),
    }
    return {"run_epoch": "x", "nodes": nodes, "final": True}


def record(run_id: str, **kwargs) -> RunRecord:
    return RunRecord.build(dag_id="dag", run_id=run_id, state="success", started_at=T0, code_version="v1",
                           report=report(**kwargs))


def test_the_timeline_has_a_bar_per_model_and_test_from_dbts_times_and_the_critical_path():
    data = timeline(record("r1"))
    bars = {b["unique_id"]: b for b in data["bars"]}
    assert set(bars) == {A, B, C, D, TEST_B}
    assert (bars[B]["start_s"], bars[B]["end_s"]) == (1.0, 5.0)
    assert bars[TEST_B]["kind"] == "test" and bars[TEST_B]["node"] == B
    assert bars[A]["rows_affected"] == 10
    assert data["critical_path"] == [A, B, D]
    assert bars[B]["critical"] and not bars[C]["critical"]
    assert [s["unique_id"] for s in data["slowest"]][:1] == [B]
    assert data["elapsed_s"] == 6.0


def test_a_failed_model_and_its_skipped_downstream_are_marked_where_the_failure_stopped_them():
    data = timeline(record("r2", b_status="error"))
    bars = {b["unique_id"]: b for b in data["bars"]}
    assert bars[B]["outcome"] == "failed" and data["failed"] == [B]
    assert bars[D]["outcome"] == "skipped" and data["skipped"] == [D]
    assert bars[D]["skipped_because"] == B and bars[D]["start_s"] == bars[B]["end_s"]
    page = timeline_page(data)
    assert f"data-unique-id='{B}' data-outcome='failed'" in page
    assert f"data-unique-id='{D}' data-outcome='skipped'" in page


def test_a_rebuilt_tasks_own_outcome_wins_over_the_first_build():
    later = outcome(B, "success", [member(B, "success", 100, 101)], [A])
    rec = RunRecord.build(dag_id="dag", run_id="r", state="success", started_at=T0, code_version=None,
                          report=report(b_status="error"), task_outcomes={B: later})
    assert rec.nodes[B].state == "success" and rec.nodes[B].duration == 1.0
    assert rec.code_version == "working tree"


def test_history_plots_each_model_per_run_and_lists_the_models_whose_median_grew():
    records = [record("r1", b_time=1.0), record("r2", b_time=1.2), record("r3", b_status="error"),
               record("r4", b_time=3.0), record("r5", b_time=3.4)]
    data = history("dag", records)
    b = next(m for m in data["models"] if m["unique_id"] == B)
    assert [p["state"] for p in b["points"]] == ["success", "success", "failed", "success", "success"]
    assert [p["duration"] for p in b["points"]][:2] == [1.0, 1.2]
    (grown,) = data["regressions"]
    assert grown["unique_id"] == B and grown["median_before_s"] == 1.1 and grown["median_recent_s"] == 3.2
    page = history_page(data)
    assert "data-state='failed'" in page and "id='regressions'" in page and ">b</text>" in page


def test_the_cli_prints_a_table_and_plots_a_png(tmp_path):
    from dataops.cli.runs import format_table
    from dataops.runs.plot import plot_history

    data = history("dag", [record("r1", b_time=1.0), record("r2", b_status="error"), record("r3", b_time=2.0)])
    table = format_table(data)
    assert "b " in table and " x " in table and "regressions" in table
    png = plot_history(data, tmp_path / "h.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
