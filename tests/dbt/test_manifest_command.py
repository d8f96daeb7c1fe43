"""``dataops dbt manifest`` reports dbt's own words: its errors and its deprecation warnings."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from dataops.cli import main

pytestmark = pytest.mark.slow


def _project(root: Path, *, extra: str = "") -> Path:
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(f'name: shop\nversion: "1.0.0"\nconfig-version: 2\nprofile: shop\n{extra}')
    (root / "models" / "orders.sql").write_text("select 1 as id\n")
    (root / "profiles.yml").write_text(
        f"shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {root / 'dev.duckdb'}\n"
    )
    return root


def _manifest(*args: str):
    return CliRunner().invoke(main, ["dbt", "manifest", *args])


@pytest.fixture(autouse=True)
def _state(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(tmp_path / "state"))


def test_deprecation_warnings_are_shown(tmp_path):
    project = _project(tmp_path / "shop", extra='source-paths: ["models"]\n')
    result = _manifest("--project-dir", str(project))
    assert result.exit_code == 0, result.output
    assert "The `source-paths` config has been renamed to `model-paths`" in result.output
    assert "shop: 1 models" in result.output


def test_a_profiles_folder_without_the_projects_profile_fails_with_dbts_words(tmp_path):
    project = _project(tmp_path / "shop")
    other = tmp_path / "other"
    other.mkdir()
    (other / "profiles.yml").write_text("someone_else:\n  target: dev\n  outputs: {}\n")
    result = _manifest("--project-dir", str(project), "--profiles-dir", str(other))
    assert result.exit_code == 1
    assert "Could not find profile named 'shop'" in result.output
    assert f"from {other.resolve() / 'profiles.yml'}" in result.output


def test_a_target_the_profile_lacks_fails_with_dbts_words(tmp_path):
    project = _project(tmp_path / "shop")
    result = _manifest("--project-dir", str(project), "--target", "prod")
    assert result.exit_code == 1
    assert "does not have a target named 'prod'" in result.output and "- dev" in result.output


def test_a_profiles_folder_without_profiles_yml_is_one_clear_line(tmp_path):
    project = _project(tmp_path / "shop")
    result = _manifest("--project-dir", str(project), "--profiles-dir", str(tmp_path))
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "has no profiles.yml" in result.output


def test_dbts_plain_output_is_the_message_and_no_missing_log_is_named(tmp_path, monkeypatch):
    """A bad command line makes dbt (click) print plain text, no JSON, and write no log."""
    project = _project(tmp_path / "shop")
    fake_dbt = tmp_path / "dbt"
    fake_dbt.write_text(
        "#!/bin/sh\necho 'Usage: dbt parse [OPTIONS]'\n"
        "echo \"Error: Invalid value for '--profiles-dir': Path '~/.dbt' does not exist.\"\nexit 2\n"
    )
    fake_dbt.chmod(fake_dbt.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("DATAOPS_DBT_BIN", str(fake_dbt))
    result = _manifest("--project-dir", str(project))
    assert result.exit_code == 1
    assert "Invalid value for '--profiles-dir': Path '~/.dbt' does not exist." in result.output
    assert "dbt.log" not in result.output
