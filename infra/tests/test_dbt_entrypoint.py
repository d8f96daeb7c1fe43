"""The dbt image's entrypoint: dbt's exit code, artifacts uploaded when asked."""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from pathlib import Path

import pytest

ENTRYPOINT = Path(__file__).resolve().parent.parent / "images/dbt/entrypoint.py"


@pytest.fixture
def entrypoint():
    spec = importlib.util.spec_from_file_location("dbt_entrypoint", ENTRYPOINT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fake_dbt(tmp_path, monkeypatch):
    """A `dbt` on PATH that writes two artifacts and exits with $FAKE_DBT_EXIT."""
    project = tmp_path / "project"
    (project / "target").mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "dbt"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > {project}/args\n'
        f"echo '{{}}' > {project}/target/manifest.json\n"
        f"echo '{{}}' > {project}/target/run_results.json\n"
        'exit "${FAKE_DBT_EXIT:-0}"\n'
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DATAOPS_DBT_PROJECT_DIR", str(project))
    return project


@pytest.fixture
def uploads(monkeypatch):
    calls = []
    client = types.SimpleNamespace(upload_file=lambda path, bucket, key: calls.append((Path(path).name, bucket, key)))
    monkeypatch.setitem(sys.modules, "boto3", types.SimpleNamespace(client=lambda service: client))
    return calls


def test_runs_dbt_with_the_arguments_and_returns_its_code(entrypoint, fake_dbt, uploads, monkeypatch):
    monkeypatch.setenv("FAKE_DBT_EXIT", "1")
    monkeypatch.delenv("DATAOPS_DBT_ARTIFACTS_URI", raising=False)
    assert entrypoint.main(["build", "--select", "staging"]) == 1
    assert (fake_dbt / "args").read_text().strip() == "build --select staging"
    assert uploads == []


def test_uploads_artifacts_also_after_a_failed_run(entrypoint, fake_dbt, uploads, monkeypatch):
    monkeypatch.setenv("FAKE_DBT_EXIT", "2")
    monkeypatch.setenv("DATAOPS_DBT_ARTIFACTS_URI", "s3://artifacts-bucket/dbt/run-42/")
    assert entrypoint.main(["build"]) == 2
    assert sorted(uploads) == [
        ("manifest.json", "artifacts-bucket", "dbt/run-42/manifest.json"),
        ("run_results.json", "artifacts-bucket", "dbt/run-42/run_results.json"),
    ]


def test_rejects_a_uri_that_is_not_s3(entrypoint, fake_dbt, uploads, monkeypatch):
    monkeypatch.setenv("DATAOPS_DBT_ARTIFACTS_URI", "/tmp/artifacts")
    with pytest.raises(SystemExit, match="s3://bucket/prefix"):
        entrypoint.main(["run"])
