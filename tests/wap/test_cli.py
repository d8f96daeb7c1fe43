"""``dataops data versions`` and ``dataops data rollback`` on a DuckDB warehouse with two published runs."""

from __future__ import annotations

from click.testing import CliRunner
from wap_project import PIPELINE, make_place

from dataops.cli.main import main
from dataops.wap.publisher import Publisher


def test_versions_lists_and_rollback_restores_by_number(duckdb_warehouse, monkeypatch):
    wh = duckdb_warehouse
    publisher = Publisher(wh.settings, keep=3)
    publisher.publish(*make_place(wh, 1))
    first = wh.production("pair_a")
    publisher.publish(*make_place(wh, 2))
    monkeypatch.setenv("DATAOPS_TARGET", "duckdb")
    monkeypatch.setenv("DATAOPS_DUCKDB_PATH", str(wh.settings.warehouse_path))
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(wh.settings.state_dir))
    runner = CliRunner()

    listed = runner.invoke(main, ["data", "versions"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0] == f"{PIPELINE}: 2 version(s) kept (DATAOPS_PUBLISH_KEEP=3)"
    assert lines[1].startswith("*    2 ") and "run run2" in lines[1] and "code test" in lines[1]
    assert lines[2].startswith("     1 ") and "run run1" in lines[2]

    rolled = runner.invoke(main, ["data", "rollback", "1"])
    assert rolled.exit_code == 0, rolled.output
    assert rolled.output.startswith(f"{PIPELINE}: rollback to 1 (now version 3, run run1")
    assert wh.production("pair_a") == first

    missing = runner.invoke(main, ["data", "rollback", "7", "--dag", PIPELINE])
    assert missing.exit_code == 1 and f"{PIPELINE} has no version 7: the kept versions are 3, 2, 1" in missing.output
