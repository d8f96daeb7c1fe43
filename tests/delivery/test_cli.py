"""``dataops publish``, ``versions`` and ``rollback`` as a user runs them (click's CliRunner)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from dataops.cli.delivery import publish, rollback, versions
from dataops.delivery.bundle import short
from dataops.delivery.errors import DeliveryError
from dataops.delivery.publish import publish_built
from dataops.delivery.store import LocalBundleStore, S3BundleStore
from dataops.errors import ConfigError

from .conftest import new_bucket


def _run(command, *args):
    return CliRunner().invoke(command, list(args), catch_exceptions=True)


@pytest.fixture
def local_store(tmp_path, monkeypatch) -> LocalBundleStore:
    monkeypatch.setenv("DATAOPS_BUNDLE_STORE", str(tmp_path / "bundles"))
    return LocalBundleStore(tmp_path / "bundles")


def test_publish_builds_shows_each_step_and_rebuilds_the_same_bytes(local_store, analytics_repo, built_first, tmp_path):
    result = _run(publish, "--repo", str(analytics_repo.path), "--ref", analytics_repo.first)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"publish {analytics_repo.first} to {local_store.location}"
    assert [line.strip().split(":")[0] for line in lines[1:6]] == [
        "archive", "compile", "check DAGs", "upload", "make current",
    ]
    version = built_first.info.version
    assert lines[-1] == f"version {short(version)} (commit {analytics_repo.first[:7]}) is now current in {local_store.location}."
    # Built again from the same commit, in another folder, at another time: the same version and archive bytes.
    assert local_store.read_pointer()[0].version == version
    local_store.get_archive(version, tmp_path / "stored.tar.gz")
    assert (tmp_path / "stored.tar.gz").read_bytes() == built_first.archive.read_bytes()

    again = _run(publish, "--repo", str(analytics_repo.path), "--ref", analytics_repo.first)
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[1:] == [
        f"commit {analytics_repo.first[:7]} is already current (version {short(version)}): nothing to publish."
    ]


def test_publish_of_an_unknown_ref_is_one_line(local_store, analytics_repo):
    result = _run(publish, "--repo", str(analytics_repo.path), "--ref", "v9.9")
    assert isinstance(result.exception, DeliveryError)
    assert str(result.exception) == (
        f"unknown Git ref 'v9.9' in {analytics_repo.path}: name a branch, tag or commit that exists there (see `git log`)."
    )
    assert local_store.list_bundles() == []


def test_versions_and_rollback_on_a_local_folder(local_store, bundle_a, bundle_b):
    assert _run(versions).output.startswith("no versions published in ")
    publish_built(local_store, bundle_a, retention=5, who="ana@laptop")
    publish_built(local_store, bundle_b, retention=5, who="ben@ci")

    listed = _run(versions).output.splitlines()
    assert listed[0] == f"versions in {local_store.location}:"
    assert listed[1].startswith(f"* {short(bundle_b.info.version)}  commit {bundle_b.info.commit[:7]}  published ")
    assert listed[1].endswith(" by ben@ci  Change 2")
    assert listed[2].startswith(f"  {short(bundle_a.info.version)}  commit {bundle_a.info.commit[:7]}  ")

    result = _run(rollback)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"version {short(bundle_a.info.version)} (commit ")
    assert _run(versions).output.splitlines()[2].startswith(f"* {short(bundle_a.info.version)}")

    unknown = _run(rollback, "feedbeef")
    assert isinstance(unknown.exception, DeliveryError)
    assert f"no version 'feedbeef' in {local_store.location}; the versions are: " in str(unknown.exception)


def test_versions_and_rollback_on_s3(s3_client, aws_endpoint, monkeypatch, bundle_a, bundle_b):
    bucket = new_bucket(s3_client)
    monkeypatch.setenv("DATAOPS_BUNDLE_STORE", f"s3://{bucket}/analytics")
    monkeypatch.setenv("DATAOPS_S3_ENDPOINT_URL", aws_endpoint)
    store = S3BundleStore(bucket, "analytics", s3_client)
    publish_built(store, bundle_a, retention=5)
    publish_built(store, bundle_b, retention=5)

    listed = _run(versions).output.splitlines()
    assert listed[0] == f"versions in s3://{bucket}/analytics:"
    assert listed[1].startswith(f"* {short(bundle_b.info.version)}")
    result = _run(rollback, short(bundle_a.info.version))
    assert result.exit_code == 0, result.output
    assert store.read_pointer()[0].version == bundle_a.info.version


def test_a_missing_bucket_is_one_line(s3_client, aws_endpoint, monkeypatch):
    monkeypatch.setenv("DATAOPS_BUNDLE_STORE", "s3://no-such-bucket-here/analytics")
    monkeypatch.setenv("DATAOPS_S3_ENDPOINT_URL", aws_endpoint)
    result = _run(versions)
    assert isinstance(result.exception, DeliveryError)
    message = str(result.exception)
    assert message.startswith("s3://no-such-bucket-here/analytics: NoSuchBucket: ") and "\n" not in message


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("DATAOPS_BUNDLE_STORE", "gs://bucket/x", "DATAOPS_BUNDLE_STORE='gs://bucket/x' is neither s3://BUCKET/PREFIX nor a local folder."),
        ("DATAOPS_BUNDLE_STORE", "s3://", "DATAOPS_BUNDLE_STORE='s3://' names no bucket: use s3://BUCKET/PREFIX."),
        ("DATAOPS_BUNDLE_RETENTION", "0", "Invalid setting DATAOPS_BUNDLE_RETENTION='0' (set in the environment): it must be at least 1 and at most 10000."),
    ],
)
def test_bad_settings_are_one_line(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    result = _run(versions)
    assert isinstance(result.exception, (DeliveryError, ConfigError))
    assert expected in str(result.exception) and "\n" not in str(result.exception)
