"""Building a bundle from a commit: what it holds, its digest, its archive, and the refusals."""

from __future__ import annotations

import json
import tarfile

import pytest

import dataops
from dataops.config import load_settings
from dataops.delivery.bundle import (
    ARTIFACT_MTIME,
    INFO_FILE,
    SOURCE_MTIME,
    BundleInfo,
    bundle_files,
    content_digest,
    normalize_manifest,
)
from dataops.delivery.errors import DeliveryError
from dataops.delivery.git import resolve_commit
from dataops.delivery.fetch import fetch_bundle
from dataops.delivery.publish import publish, publish_built
from dataops.delivery.store import LocalBundleStore

from .conftest import MODEL, UNCOMMITTED, git


def test_a_bundle_holds_the_dags_the_project_its_artifacts_and_its_info(built_first, analytics_repo):
    files = bundle_files(built_first.root)
    assert {"dags/example_dag.py", "dags/redshift_transformations.py", "dbt/dbt_project.yml"} <= set(files)
    # Of dbt's target/ only the graph, the manifest and dbt's docs site; nothing else dbt writes.
    assert [f for f in files if f.startswith("dbt/target/")] == [
        "dbt/target/catalog.json", "dbt/target/dataops_graph.json", "dbt/target/index.html", "dbt/target/manifest.json"]
    catalog = json.loads((built_first.root / "dbt/target/catalog.json").read_text())
    assert catalog["metadata"]["generated_at"] == "2000-01-01T00:00:00Z" and catalog["nodes"] == {}  # reproducible, empty
    info = BundleInfo.from_json(json.loads((built_first.root / INFO_FILE).read_text()))
    assert info == built_first.info
    assert info.commit == analytics_repo.first
    assert info.author == "Ana Lyst <ana@example.com>"
    assert info.subject == "First version of the models"
    assert info.platform_version == dataops.__version__
    assert info.dbt_target == "duckdb" and info.dbt_version
    assert info.digest == content_digest(built_first.root)


def test_a_bundle_holds_the_commit_not_the_working_tree(built_first, analytics_repo):
    # The working tree has a second commit's change to the model and an uncommitted edit on top.
    working = (analytics_repo.path / MODEL).read_text()
    assert "where q.total_quantity > 0" in working and working.endswith(UNCOMMITTED)
    bundled = (built_first.root / MODEL.removeprefix("analytics/")).read_text()
    assert bundled.rstrip("\n") == git(analytics_repo.path, "show", f"{analytics_repo.first}:{MODEL}")


def test_a_fetched_bundle_is_current_for_its_dag_files(built_first, tmp_path):
    from dataops.dbt.fingerprint import matches
    from dataops.dbt.graph import DbtGraph

    store = LocalBundleStore(tmp_path / "store")
    publish_built(store, built_first, retention=5)
    dest = tmp_path / "fetched"
    fetch_bundle(store, built_first.info.version, dest)
    graph_file = dest / "dbt" / "target" / "dataops_graph.json"
    assert graph_file.stat().st_mtime == ARTIFACT_MTIME
    assert (dest / "dbt" / "dbt_project.yml").stat().st_mtime == SOURCE_MTIME
    assert matches(dest / "dbt", graph_file, DbtGraph.read(graph_file).fingerprint)


def test_the_archive_is_sorted_with_fixed_owners_and_times(built_first):
    with tarfile.open(built_first.archive, "r:gz") as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names[0] == INFO_FILE
    files = [m.name for m in members if m.isfile() and m.name != INFO_FILE]
    assert files == sorted(files) == bundle_files(built_first.root)
    assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}
    times = {m.name: m.mtime for m in members}
    assert times["dbt/target/dataops_graph.json"] == ARTIFACT_MTIME
    assert times["dbt/models/marts/top_buyer_data_model.sql"] == times["dags"] == SOURCE_MTIME


def test_the_digest_depends_on_contents_only(built_first, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(built_first.root, copy)
    for path in copy.rglob("*"):
        path.touch()
    assert content_digest(copy) == built_first.info.digest
    (copy / "dags" / "example_dag.py").write_text("# changed\n")
    assert content_digest(copy) != built_first.info.digest


def test_normalizing_a_manifest_fixes_what_dbt_stamps_on_each_run(tmp_path):
    manifest = {
        "metadata": {"generated_at": "2026-01-01T10:00:00Z", "invocation_id": "abc", "invocation_started_at": "x"},
        "nodes": {"model.p.a": {"created_at": 1795984916.6, "name": "a"}},
        "macros": {"macro.p.m": {"created_at": 1795984904.4}},
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    normalized = normalize_manifest(path)
    assert normalized["metadata"] == {
        "generated_at": "2000-01-01T00:00:00Z",
        "invocation_id": None,
        "invocation_started_at": "2000-01-01T00:00:00Z",
    }
    assert normalized["nodes"]["model.p.a"] == {"created_at": 0.0, "name": "a"}
    assert json.loads(path.read_text()) == normalized


def test_an_unknown_ref_is_one_line(analytics_repo):
    with pytest.raises(DeliveryError) as caught:
        resolve_commit(analytics_repo.path, "no-such-branch")
    message = str(caught.value)
    assert "unknown Git ref 'no-such-branch'" in message and "\n" not in message


def test_a_folder_that_is_not_a_repository_is_one_line(tmp_path):
    with pytest.raises(DeliveryError, match="is not a Git repository"):
        resolve_commit(tmp_path, "HEAD")


def test_a_commit_without_the_dbt_project_is_refused(analytics_repo, tmp_path):
    sha = analytics_repo.commit_beside("no-project", {}, "Remove the project file", remove=("analytics/dbt/dbt_project.yml",))
    with pytest.raises(DeliveryError) as caught:
        publish(LocalBundleStore(tmp_path / "store"), analytics_repo.path, "no-project", load_settings(), retention=5)
    assert str(caught.value) == (
        f"commit {sha[:7]}: analytics/dbt has no dbt_project.yml: publish a commit that holds the dbt project."
    )


def test_a_project_that_does_not_compile_is_refused_naming_the_model_and_nothing_is_uploaded(analytics_repo, tmp_path):
    sha = analytics_repo.commit_beside(
        "broken-model",
        {"analytics/dbt/models/marts/broken_model.sql": "select * from {{ ref('no_such_model') }}\n"},
        "A model reading a model that does not exist",
    )
    store = LocalBundleStore(tmp_path / "store")
    with pytest.raises(DeliveryError) as caught:
        publish(store, analytics_repo.path, "broken-model", load_settings(), retention=5)
    message = str(caught.value)
    assert message.startswith(f"commit {sha[:7]}: the dbt project analytics/dbt does not compile: ")
    assert "model.tickit.broken_model' (models/marts/broken_model.sql)" in message and "no_such_model" in message
    assert "\n" not in message and str(tmp_path) not in message and "/tmp" not in message
    assert store.list_bundles() == [] and store.read_pointer() == (None, None)


def test_a_dag_file_that_does_not_import_is_refused_naming_the_file_and_nothing_is_uploaded(analytics_repo, tmp_path):
    sha = analytics_repo.commit_beside(
        "broken-dag",
        {"analytics/dags/broken_dag.py": "from airflow.sdk import DAG\n\nDAG(dag_id='broken', schedule=nightly)\n"},
        "A DAG file with a typo",
    )
    store = LocalBundleStore(tmp_path / "store")
    with pytest.raises(DeliveryError) as caught:
        publish(store, analytics_repo.path, "broken-dag", load_settings(), retention=5)
    message = str(caught.value)
    assert message.startswith(f"commit {sha[:7]}: analytics/dags/broken_dag.py line 3 does not import: NameError")
    assert "nightly" in message and "\n" not in message
    assert store.list_bundles() == [] and store.read_pointer() == (None, None)
