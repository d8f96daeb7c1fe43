"""Bundles made without Git or dbt, and S3 buckets on the loopback server: for the
tests of stores, versions and the Airflow bundle (tests/airflow/test_bundle.py)."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import dataops
from dataops.delivery.bundle import INFO_FILE, BuiltBundle, BundleInfo, content_digest, write_archive

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def fake_bundle(n: int, work: Path, extra: dict[str, str] | None = None) -> BuiltBundle:
    """A small bundle made without Git or dbt, for the tests of stores and versions."""
    root = work / f"bundle-{n}"
    files = {
        "dags/example_dag.py": f"# DAG file, change {n}\n",
        "dbt/dbt_project.yml": "name: tickit\n",
        "dbt/models/model.sql": f"select {n} as n\n",
        "dbt/target/manifest.json": "{}",
        "dbt/target/dataops_graph.json": "{}",
        **(extra or {}),
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    info = BundleInfo(
        digest=content_digest(root),
        commit=hashlib.sha1(f"commit {n}".encode()).hexdigest(),
        author="Ana Lyst <ana@example.com>",
        committed_at="2026-01-01T00:00:00+00:00",
        subject=f"Change {n}",
        platform_version=dataops.__version__,
        dbt_target="duckdb",
        dbt_version="1.11.0",
    )
    (root / INFO_FILE).write_bytes(info.dumps())
    return BuiltBundle(root, write_archive(root, info, work / f"bundle-{n}.tar.gz"), info)


def new_bucket(client) -> str:
    bucket = f"bundles-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=bucket)
    return bucket


def bundle_of_project(project_dir: Path, target_dir: Path, work: Path, dags: dict[str, str] | None = None) -> BuiltBundle:
    """A bundle of a compiled dbt project (its artifacts in ``target_dir``), made without Git."""
    import shutil

    root = work / "bundle"
    shutil.copytree(project_dir, root / "dbt", ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (root / "dbt" / "target").mkdir()
    for name in ("manifest.json", "dataops_graph.json"):
        shutil.copy2(target_dir / name, root / "dbt" / "target" / name)
    for rel, text in (dags or {"placeholder.py": "# no DAG here\n"}).items():
        (root / "dags" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "dags" / rel).write_text(text)
    info = BundleInfo(
        digest=content_digest(root),
        commit=hashlib.sha1(str(project_dir).encode()).hexdigest(),
        author="Ana Lyst <ana@example.com>",
        committed_at="2026-01-01T00:00:00+00:00",
        subject="A compiled project",
        platform_version=dataops.__version__,
        dbt_target="duckdb",
        dbt_version="1.11.0",
    )
    (root / INFO_FILE).write_bytes(info.dumps())
    return BuiltBundle(root, write_archive(root, info, work / "bundle.tar.gz"), info)
