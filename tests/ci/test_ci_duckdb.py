"""``dataops ci`` end to end on DuckDB: one production build for the module, then a change per test."""

from __future__ import annotations

import pytest
from ci_cases import (
    broken_model_fails_naming_it,
    clean_change_builds_exactly_modified_plus,
    failing_data_test_fails_naming_it,
)
from ci_project import prod_build, write_project

from dataops.config import load_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = tmp_path_factory.mktemp("ci-duckdb")
    settings = load_settings(target="duckdb", duckdb_path=root / "warehouse.duckdb", dbt_threads=2)
    project = write_project(root / "project")
    return settings, project, prod_build(settings, project, root / "prod")


@pytest.fixture
def schemas_like(shop):
    import duckdb

    def find(prefix: str) -> list[str]:
        with duckdb.connect(str(shop[0].warehouse_path), read_only=True) as con:
            rows = con.execute("select schema_name from information_schema.schemata").fetchall()
        return sorted({name for (name,) in rows if name.startswith(prefix)})

    return find


def test_a_clean_change_builds_state_modified_plus_deferring_to_production(shop, tmp_path, schemas_like):
    clean_change_builds_exactly_modified_plus(*shop, tmp_path, schemas_like)


def test_a_broken_model_fails_naming_it_and_leaves_no_schema(shop, tmp_path, schemas_like):
    broken_model_fails_naming_it(*shop, tmp_path, schemas_like)


def test_a_failing_data_test_fails_naming_it_and_leaves_no_schema(shop, tmp_path, schemas_like):
    failing_data_test_fails_naming_it(*shop, tmp_path, schemas_like)
