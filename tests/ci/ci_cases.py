"""The end-to-end cases, the same on every warehouse (test_ci_duckdb.py, test_ci_postgres.py)."""

from __future__ import annotations

import json
from pathlib import Path

from ci_project import CHANGED, DOWNSTREAM, UPSTREAM, copy_project

from dataops.ci.run import CiOptions, run_ci


def run(settings, project: Path, prod_target: Path, tmp: Path, **changes: str):
    changed = copy_project(project, tmp / "change", **changes)
    target = tmp / "ci-target"
    options = CiOptions(project_dir=changed, state=str(prod_target / "manifest.json"), target_path=target)
    report = run_ci(settings, options)
    return report, target


def clean_change_builds_exactly_modified_plus(settings, project, prod_target, tmp, schemas_like):
    sql = (project / "models" / f"{CHANGED}.sql").read_text().replace("* 2", "* 3")
    report, target = run(settings, project, prod_target, tmp, **{CHANGED: sql})

    assert report.passed, report.text()
    assert report.changed == [CHANGED]
    # dbt's own record of what ran: the changed model, what depends on it, and their tests.
    results = json.loads((target / "run_results.json").read_text())["results"]
    ran = {r["unique_id"] for r in results if not r["unique_id"].startswith("operation.")}
    assert {u for u in ran if u.startswith("model.")} == {f"model.ci_shop.{CHANGED}", f"model.ci_shop.{DOWNSTREAM}"}
    assert {u.split(".")[2] for u in ran if u.startswith("test.")} == {
        f"not_null_{CHANGED}_id", f"unique_{DOWNSTREAM}_customer"
    }
    assert all(r["status"] in ("success", "pass") for r in results)
    assert report.built == [CHANGED, DOWNSTREAM]
    assert sorted(report.tests_passed) == sorted([f"not_null_{CHANGED}_id", f"unique_{DOWNSTREAM}_customer"])
    # The unchanged parents were read from production's relations (deferral), not built here.
    compiled = {p.stem: p.read_text() for p in (target / "run" / "ci_shop" / "models").glob("*.sql")}
    assert f'"analytics"."{UPSTREAM[0]}"' in compiled[CHANGED]
    assert f'"analytics"."{UPSTREAM[1]}"' in compiled[DOWNSTREAM]
    assert f'"{report.schema}"."{CHANGED}"' in compiled[DOWNSTREAM]
    assert report.schema.startswith("ci_") and report.schema in report.dropped
    assert schemas_like(report.schema) == []


def broken_model_fails_naming_it(settings, project, prod_target, tmp, schemas_like):
    broken = (project / "models" / f"{CHANGED}.sql").read_text().replace("o.amount", "o.no_such_column")
    report, _ = run(settings, project, prod_target, tmp, **{CHANGED: broken})

    assert not report.passed
    build = next(s for s in report.steps if s.name == "build")
    assert build.status == "failed"
    assert any(f"model {CHANGED} (models/{CHANGED}.sql): error:" in p and "no_such_column" in p for p in build.problems), (
        build.problems
    )
    assert report.skipped == [DOWNSTREAM]
    assert f"model {CHANGED}" in report.text()
    assert schemas_like(report.schema) == []


def failing_data_test_fails_naming_it(settings, project, prod_target, tmp, schemas_like):
    nulls = (project / "models" / f"{CHANGED}.sql").read_text().replace("o.id,", "cast(null as integer) as id,")
    report, _ = run(settings, project, prod_target, tmp, **{CHANGED: nulls})

    assert not report.passed
    assert f"not_null_{CHANGED}_id" in report.tests_failed, report.text()
    assert f"not_null_{CHANGED}_id" in report.text()
    assert schemas_like(report.schema) == []
