"""The synthetic project (tests and the benchmark) builds on both of its targets with real dbt:
DuckDB, its profile's default, and PostgreSQL (the benchmark's comparison with cosmos's local mode)."""

from __future__ import annotations

import os
import subprocess

import duckdb
import psycopg
import pytest

from dataops import paths
from dataops.dbt import synthetic

DBT = paths.repo_root() / ".venv-dbt" / "bin" / "dbt"


def _build(project, env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [str(DBT), "build", "--project-dir", str(project), "--profiles-dir", str(project), *args],
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env},
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_the_synthetic_project_builds_on_each_target(target, tmp_path, request):
    project = synthetic.generate(tmp_path / "project", 6)
    marts = project.layers[-1]
    if target == "duckdb":
        warehouse = tmp_path / "warehouse.duckdb"
        _build(project.path, {"DATAOPS_DUCKDB_PATH": str(warehouse)})
        with duckdb.connect(str(warehouse), read_only=True) as con:
            rows = [con.execute(f"select count(*) from analytics.{m}").fetchone()[0] for m in marts]
    else:
        database = request.getfixturevalue("postgres_db")
        _build(project.path, database.env, "--target", "postgres")
        with psycopg.connect(database.conninfo) as con:
            rows = [con.execute(f"select count(*) from analytics.{m}").fetchone()[0] for m in marts]
    assert rows and all(rows), dict(zip(marts, rows))
