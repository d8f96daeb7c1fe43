"""A throwaway Git repository holding the platform's analytics/, one real bundle built
once per session (dbt parse takes seconds), small bundles made without dbt for
the tests of stores and versions, and the two kinds of store.

``analytics_repo`` has two commits on ``main`` (the second changes a model's
SQL) and an uncommitted edit in its working tree, which no bundle may hold.
Further commits (a broken model, a broken DAG file) are made beside ``main``
with ``AnalyticsRepo.commit_beside`` without touching the working tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from dataops import paths
from dataops.config import load_settings
from dataops.delivery.build import build_bundle
from dataops.delivery.bundle import BuiltBundle, read_info
from dataops.delivery.git import resolve_commit
from dataops.delivery.store import LocalBundleStore, S3BundleStore

sys.path.insert(0, str(Path(__file__).parent))

from bundle_support import AWS_ENV, fake_bundle, new_bucket  # noqa: E402,F401  (new_bucket: for the tests)

MODEL = "analytics/dbt/models/marts/top_buyer_data_model.sql"
UNCOMMITTED = "-- an uncommitted edit\n"
_SKIP = shutil.ignore_patterns("target", "logs", "dbt_packages", "__pycache__", ".user.yml")


def git(repo: Path, *args: str, env: dict | None = None) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env={**os.environ, **(env or {})}
    )
    return done.stdout.strip()


@dataclass(frozen=True)
class AnalyticsRepo:
    path: Path
    first: str
    second: str

    def commit_beside(self, branch: str, files: dict[str, str], message: str, remove: tuple[str, ...] = ()) -> str:
        """A commit on ``branch`` (from ``main``) writing ``files`` and removing ``remove``;
        the working tree is untouched."""
        index = self.path / ".git" / f"index-{branch}"
        env = {"GIT_INDEX_FILE": str(index)}
        git(self.path, "read-tree", "main", env=env)
        for rel, text in files.items():
            blob = subprocess.run(
                ["git", "-C", str(self.path), "hash-object", "-w", "--stdin"],
                input=text, capture_output=True, text=True, check=True,
            ).stdout.strip()
            git(self.path, "update-index", "--add", "--cacheinfo", f"100644,{blob},{rel}", env=env)
        for rel in remove:
            git(self.path, "update-index", "--force-remove", rel, env=env)
        tree = git(self.path, "write-tree", env=env)
        sha = git(self.path, "commit-tree", tree, "-p", "main", "-m", message)
        git(self.path, "update-ref", f"refs/heads/{branch}", sha)
        index.unlink()
        return sha


@pytest.fixture(scope="session")
def analytics_repo(tmp_path_factory) -> AnalyticsRepo:
    root = tmp_path_factory.mktemp("platform")
    for folder in ("dags", "dbt"):
        shutil.copytree(paths.analytics_dir() / folder, root / "analytics" / folder, ignore=_SKIP)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Ana Lyst")
    git(root, "config", "user.email", "ana@example.com")
    git(root, "add", "-A")
    # Fixed dates: every test worker's repository has the same commits, so they can share one build.
    git(root, "commit", "-q", "-m", "First version of the models", env=_dated("2026-01-01T10:00:00+00:00"))
    first = git(root, "rev-parse", "HEAD")
    model = root / MODEL
    model.write_text(model.read_text().replace("on u.userid = q.buyerid", "on u.userid = q.buyerid\nwhere q.total_quantity > 0"))
    git(root, "commit", "-q", "-am", "Keep only the buyers who bought tickets", env=_dated("2026-01-02T10:00:00+00:00"))
    second = git(root, "rev-parse", "HEAD")
    with model.open("a") as out:
        out.write(UNCOMMITTED)
    return AnalyticsRepo(root, first, second)


def _build(repo: AnalyticsRepo, ref: str, work: Path) -> BuiltBundle:
    work.mkdir(parents=True, exist_ok=True)
    return build_bundle(repo.path, resolve_commit(repo.path, ref), work, load_settings(), lambda _: None)


def _dated(when: str) -> dict[str, str]:
    return {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}


@pytest.fixture(scope="session")
def built_first(analytics_repo, tmp_path_factory) -> BuiltBundle:
    """The first commit's bundle, built once for the whole test run (dbt parse and an Airflow
    import check): test workers side by side share it through their common temporary folder."""
    import fcntl

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    work = shared / f"built-{analytics_repo.first[:12]}"
    work.mkdir(parents=True, exist_ok=True)
    with open(work / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = work / "built.json"
        if done.is_file():
            recorded = json.loads(done.read_text())
            root = Path(recorded["root"])
            return BuiltBundle(root, Path(recorded["archive"]), read_info(root))
        built = _build(analytics_repo, analytics_repo.first, work)
        done.write_text(json.dumps({"root": str(built.root), "archive": str(built.archive)}))
        return built


@pytest.fixture
def make_bundle(tmp_path):
    return lambda n: fake_bundle(n, tmp_path / "bundles")


@pytest.fixture
def bundle_a(make_bundle) -> BuiltBundle:
    return make_bundle(1)


@pytest.fixture
def bundle_b(make_bundle) -> BuiltBundle:
    return make_bundle(2)


@pytest.fixture
def s3_client(aws_endpoint, monkeypatch):
    import boto3

    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1")


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    """An empty store: a local folder, or a fresh bucket on the loopback S3 server."""
    if request.param == "local":
        return LocalBundleStore(tmp_path / "store")
    client = request.getfixturevalue("s3_client")
    return S3BundleStore(new_bucket(client), "analytics/bundles", client)
