"""``dataops data generate`` and ``dataops data load`` through click's runner."""

from __future__ import annotations

import duckdb
import pytest
from click.testing import CliRunner

from dataops.cli.main import main
from dataops.tickit.manifest import read_manifest
from dataops.tickit.schema import TABLES
from dataops.tickit.synth import scaled_row_counts


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("DATAOPS_TARGET", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


@pytest.mark.parametrize("command", [["data"], ["data", "generate"], ["data", "load"]])
def test_help(run, command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_generate_then_skip_then_force(run, tmp_path):
    out = tmp_path / "out"
    first = run("data", "generate", "--scale", "0.01", "--seed", "5", "--out", str(out))
    assert first.exit_code == 0, first.output
    assert "Generated TICKIT SF 0.01 (seed 5)" in first.output and str(out) in first.output
    assert f"{scaled_row_counts(0.01)['sales']:,}" in first.output
    manifest = read_manifest(out)
    assert (manifest.scale, manifest.seed) == (0.01, 5)
    assert all((out / t.file_name).is_file() for t in TABLES)

    again = run("data", "generate", "--scale", "0.01", "--seed", "5", "--out", str(out))
    assert again.exit_code == 0 and "already" in again.output and "--force" in again.output

    forced = run("data", "generate", "--scale", "0.01", "--seed", "5", "--out", str(out), "--force")
    assert forced.exit_code == 0 and "Generated" in forced.output


def test_generate_defaults_to_the_settings_data_dir(run, tmp_path):
    result = run("data", "generate", "--scale", "0.01")
    assert result.exit_code == 0, result.output
    assert read_manifest(tmp_path / "state" / "data" / "tickit-sf0.01").seed == 42


def test_load_generates_missing_data_then_loads(run, tmp_path, monkeypatch):
    monkeypatch.setenv("DATAOPS_SCALE", "0.01")
    data_dir = tmp_path / "fresh"
    result = run("data", "load", "--target", "duckdb", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    assert "Generated TICKIT SF 0.01" in result.output
    assert "Loaded" in result.output and "duckdb schema tickit" in result.output
    with duckdb.connect(str(tmp_path / "state" / "warehouse.duckdb"), read_only=True) as con:
        sales = con.execute("select count(*) from tickit.sales").fetchone()[0]
    assert sales == scaled_row_counts(0.01)["sales"]
    assert f"{sales:,}" in result.output

    rerun = run("data", "load", "--data-dir", str(data_dir))  # data present: no generation
    assert rerun.exit_code == 0 and "Generated" not in rerun.output


def test_load_errors_are_one_clear_line(run, tmp_path):
    data_dir = tmp_path / "data"
    assert run("data", "generate", "--scale", "0.01", "--out", str(data_dir)).exit_code == 0
    sales = data_dir / "sales_tab.txt"
    lines = sales.read_text().splitlines(keepends=True)
    lines[4] = lines[4].replace("\t", "\tbroken", 1)
    sales.write_text("".join(lines))
    result = CliRunner().invoke(main, ["data", "load", "--data-dir", str(data_dir)])
    assert result.exit_code == 1
    assert f"error: {sales}:5:" in result.output
    assert "Traceback" not in result.output

    (data_dir / "venue_pipe.txt").unlink()
    result = CliRunner().invoke(main, ["data", "load", "--data-dir", str(data_dir)])
    assert result.exit_code == 1 and "venue_pipe.txt" in result.output


def test_bad_option_values_are_rejected(run):
    result = CliRunner().invoke(main, ["data", "load", "--target", "oracle"])
    assert result.exit_code == 2 and "oracle" in result.output
    result = CliRunner().invoke(main, ["data", "generate", "--scale", "-1", "--out", "x"])
    assert result.exit_code == 2 and "--scale" in result.output and "DATAOPS_SCALE" not in result.output
    assert "0<x<=1000" in result.output, result.output


def test_a_damaged_file_is_regenerated_where_it_is_with_its_scale_and_seed(run, tmp_path):
    data_dir = tmp_path / "my data"
    assert run("data", "generate", "--scale", "0.01", "--seed", "7", "--out", str(data_dir)).exit_code == 0
    (data_dir / "venue_pipe.txt").write_text("")
    result = CliRunner().invoke(main, ["data", "load", "--data-dir", str(data_dir)])
    assert result.exit_code == 1
    assert f"dataops data generate --force --scale 0.01 --seed 7 --out '{data_dir}'" in result.output, result.output


@pytest.mark.parametrize(
    ("args", "advice"),
    [
        (["data", "load"], "set DATAOPS_STATE_DIR to a folder you can write to"),
        (["data", "generate"], "set DATAOPS_STATE_DIR to a folder you can write to"),
        (["data", "load", "--data-dir", "{blocked}/data"], "choose another --data-dir folder"),
        (["data", "generate", "--out", "{blocked}/data"], "choose another --out folder"),
    ],
)
def test_an_unwritable_folder_names_the_option_or_setting_it_came_from(run, tmp_path, monkeypatch, args, advice):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(blocked / "state"))
    monkeypatch.setenv("DATAOPS_SCALE", "0.01")
    result = CliRunner().invoke(main, [a.format(blocked=blocked) for a in args])
    assert result.exit_code == 1, result.output
    assert "cannot write to" in result.output and advice in result.output, result.output
    assert "--out" not in result.output or args[1] == "generate"
