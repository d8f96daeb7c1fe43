"""The steps of ``dataops ci`` one by one, without a dbt build: schema names, production's
manifest, lint, the DAG check, dropping schemas on Ctrl-C, the report."""

from __future__ import annotations

import json

import duckdb
import pytest
from ci_project import write_project

from dataops.ci import naming
from dataops.ci.errors import CiError
from dataops.ci.lint import lint_files
from dataops.ci.schema import SchemaScope, throwaway_schemas
from dataops.ci.state import resolve_state
from dataops.ci.summary import FAILED, PASSED, CiReport, Step, write_step_summary
from dataops.config import load_settings


@pytest.fixture
def settings(tmp_path):
    return load_settings(target="duckdb", duckdb_path=tmp_path / "wh.duckdb", state_dir=tmp_path / "state")


# Schema names


def test_two_runs_of_the_same_change_get_different_schemas():
    label = naming.change_label({"GITHUB_REF": "refs/pull/42/merge", "GITHUB_HEAD_REF": "feature/x"})
    first, second = naming.ci_schema_name(label), naming.ci_schema_name(label)
    assert label == "pr_42" and first != second
    assert first.startswith("ci_pr_42_") and second.startswith("ci_pr_42_")


def test_schema_names_are_sanitized_from_the_branch():
    label = naming.change_label({"GITHUB_HEAD_REF": "Feature/Fix-Sales!! Ünïcode" + "x" * 80})
    name = naming.ci_schema_name(label, token="abcd1234")
    assert name.startswith("ci_feature_fix_sales_")
    assert name.endswith("_abcd1234") and len(name) <= 63
    assert name.replace("_", "").isalnum() and name == name.lower()
    assert naming.sanitize("---") == "change"


# Production's manifest


def test_a_missing_manifest_is_one_line_saying_what_to_pass(settings, tmp_path):
    with pytest.raises(CiError) as caught:
        resolve_state(str(tmp_path / "nowhere" / "manifest.json"), tmp_path / "work", settings)
    message = str(caught.value)
    assert "\n" not in message
    assert "nowhere/manifest.json cannot be read" in message and "pass --state" in message


def test_an_unreadable_manifest_is_named(settings, tmp_path):
    bad = tmp_path / "manifest.json"
    bad.write_text("{not json")
    with pytest.raises(CiError, match=r"manifest.json is unreadable .*pass --state"):
        resolve_state(str(bad), tmp_path / "work", settings)
    bad.write_text(json.dumps({"hello": 1}))
    with pytest.raises(CiError, match="is not a dbt manifest.json"):
        resolve_state(str(tmp_path), tmp_path / "work", settings)


def test_without_a_published_bundle_everything_is_built(settings, tmp_path):
    state = resolve_state(None, tmp_path / "work", settings)
    assert not state.found and state.state_dir is None
    assert state.origin.startswith("no bundle published in ")


# Lint


def test_lint_names_file_line_and_rule(tmp_path):
    project = write_project(tmp_path / "project")
    assert lint_files(project, ["models/orders_enriched.sql"]).passed
    (project / "models" / "orders_enriched.sql").write_text(
        "select\n    o.id,\n    o.customer,o.amount\nfrom {{ ref('stg_orders') }} as o\n"
    )
    result = lint_files(project, ["models/orders_enriched.sql", "models/stg_orders.sql"])
    assert not result.passed
    assert {v.path for v in result.violations} == {"models/orders_enriched.sql"}
    spacing = [v for v in result.violations if v.code == "LT01"]
    assert [(v.line, v.position) for v in spacing] == [(3, 16)]
    assert str(spacing[0]).startswith("models/orders_enriched.sql:3:16: LT01 ")


def test_lint_of_todays_analytics_models_passes():
    from dataops import paths

    project = paths.repo_root() / "analytics" / "dbt"
    files = sorted(p.relative_to(project).as_posix() for p in (project / "models").rglob("*.sql"))
    result = lint_files(project, files)
    assert result.passed, [str(v) for v in result.violations]


# The throwaway schemas


def test_schemas_are_dropped_on_ctrl_c(settings):
    with pytest.raises(KeyboardInterrupt):
        with throwaway_schemas(settings, "ci_x_1234") as scope:
            with duckdb.connect(str(settings.warehouse_path)) as con:
                con.execute("create schema ci_x_1234; create schema ci_x_1234_dbt_test__audit; create schema analytics")
                con.execute("create table ci_x_1234.t as select 1 as a")
            scope.schemas.add("ci_x_1234_dbt_test__audit")
            raise KeyboardInterrupt
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        left = {row[0] for row in con.execute("select schema_name from information_schema.schemata").fetchall()}
    assert "analytics" in left and not {s for s in left if s.startswith("ci_x_1234")}
    assert scope.dropped == ("ci_x_1234", "ci_x_1234_dbt_test__audit")


def test_a_profile_that_would_write_elsewhere_is_refused(tmp_path):
    manifest = {
        "metadata": {"project_name": "p"},
        "nodes": {
            "model.p.a": {"resource_type": "model", "name": "a", "package_name": "p", "schema": "ci_x_1",
                          "original_file_path": "models/a.sql", "config": {}},
            "model.p.b": {"resource_type": "model", "name": "b", "package_name": "p", "schema": "analytics",
                          "original_file_path": "models/b.sql", "config": {}},
        },
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    with pytest.raises(CiError, match=r"model b \(models/b.sql\) would build into schema analytics"):
        SchemaScope("ci_x_1").adopt_manifest(path)


# The DAG check


def test_a_dag_file_that_does_not_import_is_named_with_its_line(tmp_path):
    from dataops.ci.dags import check_dags

    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "broken_dag.py").write_text("# an airflow dag\nimport os\n\nraise ValueError('no dag today')\n")
    check = check_dags(dags, tmp_path, "analytics/dags")
    assert not check.passed
    assert check.errors == ("analytics/dags/broken_dag.py line 4 does not import: ValueError: no dag today",)


# The report


def test_the_report_in_text_and_in_githubs_step_summary(tmp_path):
    report = CiReport("ci_pr_1_ab", "duckdb", "bundle abc", True, seconds=3.5)
    report.steps = [
        Step("lint", FAILED, 0.5, "1 file(s), 1 violation(s)", ["lint: dbt/models/x.sql:3:1: LT01 spacing"]),
        Step("build", PASSED, 2.0, "1 built"),
    ]
    report.changed, report.built = ["x"], ["x"]
    report.tests_passed, report.tests_failed = ["not_null_x_id"], []
    report.dropped = ("ci_pr_1_ab",)
    assert not report.passed
    text = report.text()
    assert "dataops ci FAILED" in text and "dbt/models/x.sql:3:1: LT01" in text and "not_null_x_id" in text
    summary = tmp_path / "summary.md"
    assert write_step_summary(report, {"GITHUB_STEP_SUMMARY": str(summary)}) == summary
    markdown = summary.read_text()
    assert "| lint | ❌ failed | 0.5 s |" in markdown and "`not_null_x_id`" in markdown
    assert write_step_summary(report, {}) is None
