"""A warehouse (DuckDB file, or a fresh PostgreSQL database) and a three-model dbt project for the
write-audit-publish tests; the helpers in wap_project.py are imported by name."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from wap_project import Warehouse  # noqa: E402

from dataops.config import load_settings  # noqa: E402


@pytest.fixture
def duckdb_warehouse(tmp_path) -> Warehouse:
    return Warehouse(load_settings(target="duckdb", state_dir=tmp_path, duckdb_path=tmp_path / "wh.duckdb"))


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.services)])
def warehouse(request, tmp_path) -> Iterator[Warehouse]:
    if request.param == "duckdb":
        yield request.getfixturevalue("duckdb_warehouse")
        return
    database = request.getfixturevalue("postgres_server").create_database()
    try:
        with pytest.MonkeyPatch.context() as mp:
            for name, value in database.env.items():
                mp.setenv(name, value)
            yield Warehouse(load_settings(target="postgres", state_dir=tmp_path))
    finally:
        database.drop()
