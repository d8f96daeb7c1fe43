"""``PublishedDagBundle``: Airflow's DAG bundle over the bundle store, on a folder and on S3.

The DAG processor's copy follows the current version; a run's copy is the
version it asks for; a damaged version is refused and the previous one kept.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "delivery"))

from bundle_support import AWS_ENV, fake_bundle, new_bucket  # noqa: E402  (tests/delivery/)

from dataops.airflow.bundle import PublishedDagBundle  # noqa: E402
from dataops.airflow.executors.base import BundleRef, DbtJob, TaskTry  # noqa: E402
from dataops.delivery.bundle import short  # noqa: E402
from dataops.delivery.publish import publish_built  # noqa: E402
from dataops.delivery.store import LocalBundleStore  # noqa: E402


@pytest.fixture(autouse=True)
def bundle_storage(tmp_path, monkeypatch) -> Path:
    storage = tmp_path / "airflow-bundles"
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH", str(storage))
    return storage


@pytest.fixture
def local_store(tmp_path) -> LocalBundleStore:
    return LocalBundleStore(tmp_path / "store")


def _bundles(tmp_path, *numbers):
    return [fake_bundle(n, tmp_path / "built") for n in numbers]


def _dag_file(bundle: PublishedDagBundle) -> str:
    return (bundle.path / "example_dag.py").read_text()


def test_the_dag_processors_copy_follows_the_current_version(local_store, tmp_path):
    first, second = _bundles(tmp_path, 1, 2)
    bundle = PublishedDagBundle(name="analytics", store=str(local_store.root))
    bundle.initialize()
    assert bundle.get_current_version() is None
    assert bundle.path.is_dir() and not any(bundle.path.iterdir()), "nothing published: an empty folder"

    publish_built(local_store, first, retention=5)
    bundle.refresh()
    assert bundle.get_current_version().version == first.info.version
    assert bundle.path == bundle.base_dir / "latest" / first.info.version / "dags"
    assert _dag_file(bundle) == "# DAG file, change 1\n"
    assert (bundle.path.parent / "dbt" / "target" / "dataops_graph.json").is_file()

    publish_built(local_store, second, retention=5)
    before = time.time()
    bundle.refresh()
    assert bundle.get_current_version().version == second.info.version
    assert _dag_file(bundle) == "# DAG file, change 2\n"
    # Newer than any parse: the DAG processor parses a new version's files at once, not at its interval.
    assert (bundle.path / "example_dag.py").stat().st_mtime >= before - 1
    # The folder a parse started on before the refresh is still whole.
    assert (bundle.base_dir / "latest" / first.info.version / "dags" / "example_dag.py").is_file()


def test_a_run_reads_its_own_version_whatever_is_current(local_store, tmp_path):
    first, second = _bundles(tmp_path, 1, 2)
    publish_built(local_store, first, retention=5)
    publish_built(local_store, second, retention=5)

    run_copy = PublishedDagBundle(name="analytics", store=str(local_store.root), version=first.info.version)
    run_copy.initialize()
    assert run_copy.path == run_copy.versions_dir / first.info.version / "dags"
    assert _dag_file(run_copy) == "# DAG file, change 1\n"
    assert run_copy.get_current_version().version == first.info.version
    with pytest.raises(ValueError, match="never changes"):
        run_copy.refresh()

    # What an operator running dbt elsewhere sends: this version, this store.
    ti = type("TI", (), {"bundle_instance": run_copy})()
    assert BundleRef.of(ti) == BundleRef(first.info.version, str(local_store.root))
    assert BundleRef.of(object()) is None


def test_a_damaged_version_is_refused_and_the_previous_one_served(local_store, tmp_path, caplog):
    first, second = _bundles(tmp_path, 1, 2)
    publish_built(local_store, first, retention=5)
    bundle = PublishedDagBundle(name="analytics", store=str(local_store.root))
    bundle.initialize()
    assert bundle.get_current_version().version == first.info.version

    publish_built(local_store, second, retention=5)
    archive = local_store.root / "bundles" / f"{second.info.version}.tar.gz"
    archive.write_bytes(archive.read_bytes()[:200])  # truncated in the store
    with caplog.at_level(logging.ERROR, logger="dataops.airflow.bundle"):
        bundle.refresh()
    assert bundle.get_current_version().version == first.info.version
    assert _dag_file(bundle) == "# DAG file, change 1\n"
    (message,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert f"version {short(second.info.version)} refused" in message
    assert "truncated" in message and f"Still serving version {short(first.info.version)}" in message

    # A run asking for that version fails with the same words, before any task code runs.
    run_copy = PublishedDagBundle(name="analytics", store=str(local_store.root), version=second.info.version)
    with pytest.raises(Exception, match=f"bundle {short(second.info.version)} .* is damaged"):
        run_copy.initialize()


def test_an_unreachable_store_keeps_the_current_version(tmp_path, caplog):
    store = LocalBundleStore(tmp_path / "store")
    (first,) = _bundles(tmp_path, 1)
    publish_built(store, first, retention=5)
    bundle = PublishedDagBundle(name="analytics", store=str(store.root))
    bundle.initialize()
    (store.root / "current.json").write_text("{not json")
    with caplog.at_level(logging.ERROR, logger="dataops.airflow.bundle"):
        bundle.refresh()
    assert bundle.get_current_version().version == first.info.version
    assert any("cannot read the current version" in r.getMessage() for r in caplog.records)


def test_on_s3_through_the_providers_s3_hook(aws_endpoint, tmp_path, monkeypatch):
    import boto3

    from dataops.delivery.store import S3BundleStore

    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    s3_client = boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1")
    bucket = new_bucket(s3_client)
    store = S3BundleStore(bucket, "bundles", s3_client)
    first, second = _bundles(tmp_path, 1, 2)
    publish_built(store, first, retention=5)
    connection = {"conn_type": "aws", "extra": {"endpoint_url": aws_endpoint, "region_name": "us-east-1"}}
    monkeypatch.setenv("AIRFLOW_CONN_BUNDLE_STORE", json.dumps(connection))

    bundle = PublishedDagBundle(name="analytics", store=f"s3://{bucket}/bundles", aws_conn_id="bundle_store")
    bundle.initialize()
    assert _dag_file(bundle) == "# DAG file, change 1\n"
    publish_built(store, second, retention=5)
    bundle.refresh()
    assert _dag_file(bundle) == "# DAG file, change 2\n"

    run_copy = PublishedDagBundle(
        name="analytics", store=f"s3://{bucket}/bundles", aws_conn_id="bundle_store", version=first.info.version
    )
    run_copy.initialize()
    assert _dag_file(run_copy) == "# DAG file, change 1\n"


def test_the_ecs_task_is_sent_the_runs_version_and_store():
    from dataops.airflow.executors.ecs import EcsDbtExecutor, EcsRunConfig

    config = EcsRunConfig(
        cluster="c", task_definition="t", container_name="dbt", subnets=("s",), security_groups=(),
        log_group="g", log_stream_prefix="dbt", artifacts_bucket="artifacts",
    )
    executor = EcsDbtExecutor(config, hooks=None)
    task = TaskTry("d", "r", "dbt_build", 1)
    job = DbtJob(task, bundle=BundleRef("ab" * 32, "s3://b/bundles"))
    pinned = executor.container_environment(job)
    assert {e["name"]: e["value"] for e in pinned} == {
        "DATAOPS_DBT_ARTIFACTS_URI": "s3://artifacts/dbt/d/r/dbt_build.1",
        "DATAOPS_DBT_PARSE_CACHE_URI": executor.parse_cache_uri(job),
        "DATAOPS_BUNDLE_VERSION": "ab" * 32,
        "DATAOPS_BUNDLE_STORE": "s3://b/bundles",
    }
    unpinned = executor.container_environment(DbtJob(task))
    assert [e["name"] for e in unpinned] == ["DATAOPS_DBT_ARTIFACTS_URI", "DATAOPS_DBT_PARSE_CACHE_URI"]
