"""Every DAG file in analytics/dags imports cleanly, quickly, with no warning."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pytest

from dataops import paths

DAG_FILES = sorted(p for p in paths.dags_dir().glob("*.py") if not p.name.startswith("_"))


def test_there_are_dag_files():
    names = {p.stem for p in DAG_FILES}
    assert {"example_dag", "redshift_transformations"} <= names


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_cleanly_and_fast(dag_file: Path):
    from airflow.dag_processing.dagbag import DagBag

    DagBag(dag_folder=str(dag_file))  # warm imports shared by all files
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        started = time.perf_counter()
        bag = DagBag(dag_folder=str(dag_file))
        elapsed = time.perf_counter() - started
    assert bag.import_errors == {}, bag.import_errors
    assert bag.dags, f"{dag_file.name} defines no DAG"
    ours = [w for w in caught if str(dag_file.parent) in str(w.filename) or "dataops" in str(w.filename)]
    assert not ours, [f"{w.filename}:{w.lineno}: {w.message}" for w in ours]
    assert elapsed < 1.0, f"{dag_file.name} took {elapsed:.2f}s to import"
