"""The dbt image's entrypoint: the run's bundle fetched and built, dbt's exit code, artifacts uploaded.

Bundles are real ones (``dataops.delivery.bundle``'s format, which needs only
the standard library) in a local store; ``dbt`` is a stand-in on PATH that
records its arguments and working directory.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import types
from pathlib import Path

import pytest

INFRA = Path(__file__).resolve().parent.parent
ENTRYPOINT = INFRA / "images/dbt/entrypoint.py"
# The image installs the dataops package; here it comes from the checkout.
REPO = INFRA.parent
SRC = REPO / "src"


@pytest.fixture
def entrypoint(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(SRC))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "scratch"))
    (tmp_path / "scratch").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    for name in (
        "DATAOPS_BUNDLE_VERSION",
        "DATAOPS_BUNDLE_STORE",
        "DATAOPS_DBT_PROJECT_DIR",
        "DBT_TARGET_PATH",
        "DATAOPS_DBT_ARTIFACTS_URI",
        "DATAOPS_DBT_PARSE_CACHE_URI",
        "DATAOPS_S3_ENDPOINT_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    spec = importlib.util.spec_from_file_location("dbt_entrypoint", ENTRYPOINT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fake_dbt(tmp_path, monkeypatch):
    """A `dbt` on PATH that records its arguments and folder, writes two artifacts into
    <cwd>/${DBT_TARGET_PATH:-target} and exits with $FAKE_DBT_EXIT. Returns the record file."""
    record = tmp_path / "dbt-called"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "dbt"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > {record}\n'
        f"pwd >> {record}\n"
        'target="${DBT_TARGET_PATH:-target}"\n'
        'mkdir -p "$target"\n'
        "echo '{}' > \"$target/manifest.json\"\n"
        "echo '{}' > \"$target/run_results.json\"\n"
        # dbt's partial-parse file: what this run found, then its own.
        f'cat "$target/partial_parse.msgpack" > {record}.parse-found 2>/dev/null || rm -f {record}.parse-found\n'
        'echo "parse of the project at $(pwd)" > "$target/partial_parse.msgpack"\n'
        'exit "${FAKE_DBT_EXIT:-0}"\n'
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return record


def dbt_call(record: Path) -> tuple[str, Path] | None:
    """(arguments, working directory) of the stand-in's last run; None if dbt never ran."""
    if not record.exists():
        return None
    args, cwd = record.read_text().splitlines()
    return args, Path(cwd)


@pytest.fixture
def uploads(monkeypatch):
    calls = []
    client = types.SimpleNamespace(upload_file=lambda path, bucket, key: calls.append((Path(path).name, bucket, key)))
    monkeypatch.setitem(sys.modules, "boto3", types.SimpleNamespace(client=lambda service: client))
    return calls


@pytest.fixture
def local_project(tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    (project / "dbt_project.yml").write_text("name: local\n")
    monkeypatch.setenv("DATAOPS_DBT_PROJECT_DIR", str(project))
    return project


def publish(store_root: Path, work: Path, *, n: int = 1) -> str:
    """A bundle in the folder store at ``store_root``, as `dataops publish` stores it; returns its version."""
    sys.path[:0] = [str(SRC), str(REPO / "tests" / "delivery")]
    try:
        from bundle_support import fake_bundle  # the platform tests' bundle maker
        from dataops.delivery.store import LocalBundleStore, StoredBundle
    finally:
        del sys.path[:2]
    built = fake_bundle(n, work, extra={"dbt/profiles.yml": "tickit: {}\n"})
    LocalBundleStore(store_root).put_bundle(StoredBundle(built.info, "2026-01-01T00:00:00+00:00", "ana"), built.archive)
    return built.info.digest


@pytest.fixture
def bundle(tmp_path, monkeypatch) -> str:
    """A published bundle's version, DATAOPS_BUNDLE_VERSION and DATAOPS_BUNDLE_STORE pointing at it."""
    store = tmp_path / "store"
    version = publish(store, tmp_path / "work")
    monkeypatch.setenv("DATAOPS_BUNDLE_VERSION", version)
    monkeypatch.setenv("DATAOPS_BUNDLE_STORE", str(store))
    return version


def fetched(tmp_path: Path, version: str) -> Path:
    return tmp_path / "scratch" / "dataops-bundles" / version


# -- the run's bundle ---------------------------------------------------------------------------


def test_builds_the_bundles_project_from_its_folder(entrypoint, fake_dbt, bundle, uploads, tmp_path, capfd):
    command = ["--log-format", "json", "--no-use-colors", "build", "--target", "prod", "--select", "a", "b"]
    assert entrypoint.main(command) == 0
    project = fetched(tmp_path, bundle) / "dbt"
    args, cwd = dbt_call(fake_dbt)
    # The project is the bundle's; dbt runs in its folder, so it finds the bundle's profiles.yml.
    assert args == " ".join([*command, "--project-dir", str(project)])
    assert cwd == project and (cwd / "profiles.yml").is_file()
    assert (fetched(tmp_path, bundle) / "bundle.json").is_file()
    out = capfd.readouterr().out.splitlines()
    # What it fetched comes first: the version, the commit, where from.
    assert out[0].startswith(f"dbt-entrypoint: bundle {bundle} (commit {hashlib.sha1(b'commit 1').hexdigest()[:12]}")
    assert out[0].endswith(f"from {tmp_path / 'store'}")
    assert uploads == []


def test_uploads_the_artifacts_of_the_bundles_project(entrypoint, fake_dbt, bundle, uploads, monkeypatch):
    monkeypatch.setenv("FAKE_DBT_EXIT", "1")
    monkeypatch.setenv("DATAOPS_DBT_ARTIFACTS_URI", "s3://artifacts-bucket/dbt/run-7/")
    monkeypatch.setenv("DBT_TARGET_PATH", "elsewhere")
    assert entrypoint.main(["build"]) == 1
    _, cwd = dbt_call(fake_dbt)
    assert (cwd / "elsewhere" / "run_results.json").is_file()
    assert sorted(uploads) == [
        ("manifest.json", "artifacts-bucket", "dbt/run-7/manifest.json"),
        ("run_results.json", "artifacts-bucket", "dbt/run-7/run_results.json"),
    ]


def test_a_second_run_of_the_same_version_reuses_the_fetched_bundle(entrypoint, fake_dbt, bundle, tmp_path):
    assert entrypoint.main(["build"]) == 0
    (tmp_path / "store" / "bundles" / f"{bundle}.tar.gz").unlink()  # it is not downloaded again
    assert entrypoint.main(["build"]) == 0


def test_s3_is_reached_through_the_platforms_endpoint_setting(entrypoint, fake_dbt, bundle, monkeypatch):
    import dataops.delivery.store as store_module

    opened = []
    real_open = store_module.open_store

    def open_store(location, **options):
        opened.append((location, options))
        return real_open(str(os.environ["DATAOPS_BUNDLE_STORE"]))

    monkeypatch.setattr(store_module, "open_store", open_store)
    monkeypatch.setenv("DATAOPS_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    assert entrypoint.main(["build"]) == 0
    assert opened[0][1] == {"endpoint_url": "http://127.0.0.1:9000"}
    monkeypatch.delenv("DATAOPS_S3_ENDPOINT_URL")
    assert entrypoint.main(["build"]) == 0
    assert opened[1][1] == {"endpoint_url": None}  # boto3's own configuration (AWS_ENDPOINT_URL, the task role)


# -- refusals: one line naming the version and the store, exit code 2, no dbt -------------------


def refused(entrypoint, fake_dbt, capfd) -> str:
    assert entrypoint.main(["build"]) == 2
    assert dbt_call(fake_dbt) is None, "dbt must not run"
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_an_unknown_version_is_refused(entrypoint, fake_dbt, bundle, tmp_path, monkeypatch, capfd):
    unknown = "0" * 64
    monkeypatch.setenv("DATAOPS_BUNDLE_VERSION", unknown)
    line = refused(entrypoint, fake_dbt, capfd)
    assert unknown in line and str(tmp_path / "store") in line and "no bundle" in line


def test_a_damaged_bundle_is_refused(entrypoint, fake_dbt, bundle, tmp_path, capfd):
    archive = tmp_path / "store" / "bundles" / f"{bundle}.tar.gz"
    archive.write_bytes(archive.read_bytes()[:100])  # truncated
    line = refused(entrypoint, fake_dbt, capfd)
    assert bundle in line and str(tmp_path / "store") in line and "damaged" in line
    assert not fetched(tmp_path, bundle).exists()


def test_a_bundle_whose_files_were_altered_is_refused(entrypoint, fake_dbt, bundle, tmp_path, monkeypatch, capfd):
    other = publish(tmp_path / "store", tmp_path / "work", n=2)
    # Version 1's name on version 2's archive: the digest check catches it.
    (tmp_path / "store" / "bundles" / f"{other}.tar.gz").replace(tmp_path / "store" / "bundles" / f"{bundle}.tar.gz")
    line = refused(entrypoint, fake_dbt, capfd)
    assert bundle in line and "damaged" in line


def test_a_version_without_a_store_is_refused(entrypoint, fake_dbt, bundle, monkeypatch, capfd):
    monkeypatch.delenv("DATAOPS_BUNDLE_STORE")
    line = refused(entrypoint, fake_dbt, capfd)
    assert bundle in line and "DATAOPS_BUNDLE_STORE is not set" in line


def test_a_malformed_version_is_refused(entrypoint, fake_dbt, bundle, monkeypatch, capfd):
    monkeypatch.setenv("DATAOPS_BUNDLE_VERSION", "../../etc")
    line = refused(entrypoint, fake_dbt, capfd)
    assert "../../etc" in line and "64 hex digits" in line


def test_an_unreachable_store_is_refused(entrypoint, fake_dbt, bundle, monkeypatch, capfd):
    monkeypatch.setenv("DATAOPS_BUNDLE_STORE", "ftp://nowhere/bundles")
    line = refused(entrypoint, fake_dbt, capfd)
    assert bundle in line and "ftp://nowhere/bundles" in line


def test_without_a_bundle_the_image_has_no_project(entrypoint, fake_dbt, capfd):
    line = refused(entrypoint, fake_dbt, capfd)
    assert "DATAOPS_BUNDLE_VERSION is not set" in line and "carries no dbt project" in line


# -- local use: a project folder instead of a bundle -------------------------------------------


def test_a_local_project_runs_with_the_arguments_and_returns_its_code(
    entrypoint, fake_dbt, local_project, uploads, monkeypatch
):
    monkeypatch.setenv("FAKE_DBT_EXIT", "1")
    assert entrypoint.main(["build", "--select", "staging"]) == 1
    args, cwd = dbt_call(fake_dbt)
    assert args == f"build --select staging --project-dir {local_project}"
    assert cwd == local_project
    assert uploads == []


def test_a_project_dir_in_the_arguments_is_not_repeated(entrypoint, fake_dbt, local_project):
    assert entrypoint.main(["build", "--project-dir", str(local_project)]) == 0
    assert dbt_call(fake_dbt)[0] == f"build --project-dir {local_project}"


def test_uploads_artifacts_also_after_a_failed_run(entrypoint, fake_dbt, local_project, uploads, monkeypatch):
    monkeypatch.setenv("FAKE_DBT_EXIT", "2")
    monkeypatch.setenv("DATAOPS_DBT_ARTIFACTS_URI", "s3://artifacts-bucket/dbt/run-42/")
    assert entrypoint.main(["build"]) == 2
    assert sorted(uploads) == [
        ("manifest.json", "artifacts-bucket", "dbt/run-42/manifest.json"),
        ("run_results.json", "artifacts-bucket", "dbt/run-42/run_results.json"),
    ]


def test_a_local_project_dir_that_is_no_project_is_refused(entrypoint, fake_dbt, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("DATAOPS_DBT_PROJECT_DIR", str(tmp_path / "missing"))
    line = refused(entrypoint, fake_dbt, capfd)
    assert str(tmp_path / "missing") in line and "dbt_project.yml" in line


def test_rejects_a_uri_that_is_not_s3(entrypoint, fake_dbt, local_project, uploads, monkeypatch):
    monkeypatch.setenv("DATAOPS_DBT_ARTIFACTS_URI", "/tmp/artifacts")
    with pytest.raises(SystemExit, match="s3://bucket/prefix"):
        entrypoint.main(["run"])


# -- dbt's saved parse (DATAOPS_DBT_PARSE_CACHE_URI) ----------------------------------------------

PARSE_URI = "s3://artifacts-bucket/dbt-parse-cache/synthetic/0123abcd/partial_parse.msgpack"


@pytest.fixture
def s3_objects(monkeypatch, tmp_path):
    """An S3 stand-in holding objects in a dict, {(bucket, key): bytes}; set "fail" to make calls raise."""
    objects: dict = {}

    class NotFound(Exception):
        def __str__(self) -> str:
            return "An error occurred (404) when calling the HeadObject operation: Not Found"

    def download_file(bucket, key, path):
        if objects.get("fail"):
            raise ConnectionError("could not reach the endpoint")
        if (bucket, key) not in objects:
            raise NotFound()
        Path(path).write_bytes(objects[(bucket, key)])

    def upload_file(path, bucket, key):
        if objects.get("fail"):
            raise ConnectionError("could not reach the endpoint")
        objects[(bucket, key)] = Path(path).read_bytes()

    client = types.SimpleNamespace(download_file=download_file, upload_file=upload_file)
    monkeypatch.setitem(sys.modules, "boto3", types.SimpleNamespace(client=lambda service: client))
    return objects


def parse_found(record: Path) -> str | None:
    """The partial-parse file the stand-in dbt found in its target folder, if any."""
    found = Path(f"{record}.parse-found")
    return found.read_text() if found.exists() else None


def test_dbts_parse_is_saved_and_the_next_version_starts_from_it_at_the_same_path(
    entrypoint, fake_dbt, bundle, s3_objects, tmp_path, monkeypatch, capfd
):
    key = ("artifacts-bucket", PARSE_URI[len("s3://artifacts-bucket/"):])
    monkeypatch.setenv("DATAOPS_DBT_PARSE_CACHE_URI", PARSE_URI)
    assert entrypoint.main(["build"]) == 0
    first_args, _ = dbt_call(fake_dbt)
    assert parse_found(fake_dbt) is None
    said = capfd.readouterr().out
    assert f"no saved parse at {PARSE_URI} (none saved yet): dbt parses the whole project" in said
    saved = s3_objects[key]

    # The next run builds another version: dbt finds the saved parse, and the project at the same
    # path (dbt's parse records the project's absolute path: a seed is read from it).
    monkeypatch.setenv("DATAOPS_BUNDLE_VERSION", publish(tmp_path / "store", tmp_path / "work2", n=2))
    assert entrypoint.main(["build"]) == 0
    second_args, _ = dbt_call(fake_dbt)
    assert parse_found(fake_dbt) == saved.decode()
    assert "dbt's saved parse from " + PARSE_URI in capfd.readouterr().out
    project_dir = second_args.split("--project-dir ")[1]
    assert first_args == second_args and Path(project_dir).parent == tmp_path / "scratch" / "dataops-bundles" / "stable"
    # ... which is this run's version.
    version = os.environ["DATAOPS_BUNDLE_VERSION"]
    assert Path(project_dir).resolve() == (fetched(tmp_path, version) / "dbt").resolve()
    assert s3_objects[key] != saved


def test_an_unreachable_parse_store_costs_a_full_parse_not_the_run(entrypoint, fake_dbt, bundle, s3_objects,
                                                                  monkeypatch, capfd):
    monkeypatch.setenv("DATAOPS_DBT_PARSE_CACHE_URI", PARSE_URI)
    monkeypatch.setenv("FAKE_DBT_EXIT", "1")
    s3_objects["fail"] = True
    assert entrypoint.main(["build"]) == 1  # dbt's own outcome
    out = capfd.readouterr().out
    assert f"no saved parse at {PARSE_URI} (ConnectionError: could not reach the endpoint)" in out
    assert f"could not save dbt's parse to {PARSE_URI} (ConnectionError" in out
    assert out.rstrip().endswith("dbt-entrypoint: done (dbt exit code 1)")


def test_a_parse_uri_that_is_not_an_s3_object_is_refused(entrypoint, fake_dbt, bundle, s3_objects, monkeypatch, capfd):
    monkeypatch.setenv("DATAOPS_DBT_PARSE_CACHE_URI", "s3://artifacts-bucket")
    message = refused(entrypoint, fake_dbt, capfd)
    assert message == ("dbt-entrypoint: DATAOPS_DBT_PARSE_CACHE_URI must look like s3://bucket/key "
                       "(got 's3://artifacts-bucket').")
