"""Every DAG file in analytics/dags imports cleanly, with no warning.

How fast a DAG file parses is measured by the benchmark (bench/run.py, parse_s_*).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from dataops import paths

pytestmark = pytest.mark.usefixtures("compiled_analytics_project")

DAG_FILES = sorted(p for p in paths.dags_dir().glob("*.py") if not p.name.startswith("_"))


def test_there_are_dag_files():
    names = {p.stem for p in DAG_FILES}
    assert {"example_dag", "redshift_transformations"} <= names


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_cleanly(dag_file: Path):
    from airflow.dag_processing.dagbag import DagBag

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bag = DagBag(dag_folder=str(dag_file))
    assert bag.import_errors == {}, bag.import_errors
    assert bag.dags, f"{dag_file.name} defines no DAG"
    ours = [w for w in caught if str(dag_file.parent) in str(w.filename) or "dataops" in str(w.filename)]
    assert not ours, [f"{w.filename}:{w.lineno}: {w.message}" for w in ours]
