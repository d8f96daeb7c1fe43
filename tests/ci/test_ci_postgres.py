"""``dataops ci`` end to end on the machine's PostgreSQL: a database of the module's own,
one production build, then a change per test."""

from __future__ import annotations

import pytest
from ci_cases import broken_model_fails_naming_it, clean_change_builds_exactly_modified_plus
from ci_project import prod_build, write_project

from dataops.config import load_settings
from dataops.warehouses.postgres import PostgresSettings

pytestmark = [pytest.mark.slow, pytest.mark.services]


@pytest.fixture(scope="module")
def database(postgres_server):
    db = postgres_server.create_database("dataops_test_ci_")
    try:
        yield db
    finally:
        db.drop()


@pytest.fixture(scope="module")
def shop(tmp_path_factory, database):
    root = tmp_path_factory.mktemp("ci-postgres")
    server = database.server
    section = PostgresSettings(
        host=server.host, port=server.port, user=server.user, password=server.password, database=database.name
    )
    settings = load_settings(target="postgres", dbt_threads=2).with_section(section)
    project = write_project(root / "project")
    return settings, project, prod_build(settings, project, root / "prod")


@pytest.fixture
def schemas_like(database):
    import psycopg

    def find(prefix: str) -> list[str]:
        with psycopg.connect(database.conninfo) as conn:
            rows = conn.execute("select schema_name from information_schema.schemata").fetchall()
        return sorted({name for (name,) in rows if name.startswith(prefix)})

    return find


def test_a_clean_change_builds_state_modified_plus_deferring_to_production(shop, tmp_path, schemas_like):
    clean_change_builds_exactly_modified_plus(*shop, tmp_path, schemas_like)


def test_a_broken_model_fails_naming_it_and_leaves_no_schema(shop, tmp_path, schemas_like):
    broken_model_fails_naming_it(*shop, tmp_path, schemas_like)
