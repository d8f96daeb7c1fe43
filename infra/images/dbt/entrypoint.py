#!/usr/bin/env python3
"""Fetch the run's analytics bundle, run dbt on its project, then keep dbt's artifacts in S3.

The image carries the platform only, never a dbt project. Airflow's ``ecs``
executor sends, as RunTask container overrides, the bundle version the DAG
run started with and where bundles are stored:

    DATAOPS_BUNDLE_VERSION   the version (content digest) to build
    DATAOPS_BUNDLE_STORE     s3://bucket/prefix (or a folder, for local use)

The entrypoint fetches that version (verified against its digest, see
``dataops.delivery.fetch``) into ``$TMPDIR/dataops-bundles/<version>``,
prints which version and commit it is, and runs ``dbt <arguments>
--project-dir <bundle>/dbt`` from that folder, so dbt finds the project's own
``profiles.yml`` there unless the arguments name other profiles. S3 is
reached through ``DATAOPS_S3_ENDPOINT_URL`` when it is set, else through
boto3's own configuration (``AWS_ENDPOINT_URL``, the task role...).

Without ``DATAOPS_BUNDLE_VERSION`` it refuses, unless
``DATAOPS_DBT_PROJECT_DIR`` names an existing dbt project (local and
development use). A missing variable, an unknown version or a damaged
bundle is one line on stderr naming the version and the store, exit code
2, and dbt is not run.

When ``DATAOPS_DBT_ARTIFACTS_URI`` (``s3://bucket/dbt/<run id>``) is set, the
run's ``manifest.json``, ``run_results.json`` and ``sources.json`` are uploaded
there from the project's target folder (``DBT_TARGET_PATH``, default
``target``), also after a failed run, so Airflow can read the results.
Otherwise dbt's exit code is returned.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

ARTIFACTS = ("manifest.json", "run_results.json", "sources.json")
# What a refusal exits with (dbt's own codes are 0, 1 and 2: 2 is also dbt's "could not run").
REFUSED = 2
VERSION = re.compile(r"^[0-9a-f]{64}$")
PROJECT_FILE = "dbt_project.yml"
# The last line printed (dataops.airflow.executors.ecs.ENTRYPOINT_DONE waits for it).
DONE = "dbt-entrypoint: done"


class Refused(Exception):
    """The entrypoint cannot give dbt a project: the message is the one line printed."""


def upload_artifacts(target_dir: Path, uri: str) -> None:
    import boto3

    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise SystemExit(f"DATAOPS_DBT_ARTIFACTS_URI must look like s3://bucket/prefix (got {uri!r})")
    prefix = parsed.path.strip("/")
    s3 = boto3.client("s3")
    for name in ARTIFACTS:
        path = target_dir / name
        if path.is_file():
            key = f"{prefix}/{name}" if prefix else name
            s3.upload_file(str(path), parsed.netloc, key)
            print(f"uploaded {name} to s3://{parsed.netloc}/{key}", flush=True)


def bundles_dir() -> Path:
    """Where fetched bundles go: ``$TMPDIR/dataops-bundles`` (a container's scratch space)."""
    return Path(tempfile.gettempdir()) / "dataops-bundles"


def fetch_project(version: str, location: str) -> Path:
    """The dbt project of bundle ``version`` from the store at ``location``, fetched and verified."""
    where = f"bundle {version or '(empty)'} from {location or '(no store)'}"
    if not VERSION.match(version):
        raise Refused(f"{where}: DATAOPS_BUNDLE_VERSION must be a bundle's full version (64 hex digits).")
    if not location:
        raise Refused(f"bundle {version}: DATAOPS_BUNDLE_STORE is not set, so there is nowhere to fetch it from.")
    try:
        from dataops.delivery.fetch import fetch_bundle
        from dataops.delivery.store import open_store
        from dataops.errors import DataOpsError
    except ImportError as exc:
        raise Refused(f"{where}: the dataops package is not installed in this image ({exc}).") from None
    endpoint = os.environ.get("DATAOPS_S3_ENDPOINT_URL") or None
    dest = bundles_dir() / version
    try:
        info = fetch_bundle(open_store(location, endpoint_url=endpoint), version, dest)
    except DataOpsError as exc:
        raise Refused(f"{where}: {exc}") from None
    except Exception as exc:  # whatever boto3 or the archive raise: one line, no dbt
        raise Refused(f"{where}: {type(exc).__name__}: {exc}") from None
    print(
        f"dbt-entrypoint: bundle {version} (commit {info.commit[:12]}, {info.subject!r}, "
        f"by {info.author} at {info.committed_at}) from {location}",
        flush=True,
    )
    project = dest / "dbt"
    if not (project / PROJECT_FILE).is_file():
        raise Refused(f"{where}: the bundle has no dbt/{PROJECT_FILE}.")
    return project


def find_project(env: os._Environ | dict[str, str]) -> Path:
    """The dbt project this run builds (see the module's docstring); Refused when there is none."""
    version = env.get("DATAOPS_BUNDLE_VERSION", "").strip()
    if version or "DATAOPS_BUNDLE_VERSION" in env:
        return fetch_project(version, env.get("DATAOPS_BUNDLE_STORE", "").strip())
    local = env.get("DATAOPS_DBT_PROJECT_DIR", "").strip()
    if local:
        project = Path(local).resolve()
        if not (project / PROJECT_FILE).is_file():
            raise Refused(f"DATAOPS_DBT_PROJECT_DIR={local!r} holds no {PROJECT_FILE}: no dbt project to run.")
        return project
    raise Refused(
        "DATAOPS_BUNDLE_VERSION is not set: this image carries no dbt project. Airflow's ecs executor sends "
        "the run's bundle (DATAOPS_BUNDLE_VERSION and DATAOPS_BUNDLE_STORE); for local use set "
        "DATAOPS_DBT_PROJECT_DIR to a dbt project folder."
    )


def main(argv: list[str]) -> int:
    try:
        project = find_project(os.environ)
    except Refused as exc:
        print(f"dbt-entrypoint: {exc}", file=sys.stderr, flush=True)
        return REFUSED
    command = ["dbt", *argv]
    if "--project-dir" not in argv:
        command += ["--project-dir", str(project)]
    completed = subprocess.run(command, cwd=project, check=False)
    try:
        uri = os.environ.get("DATAOPS_DBT_ARTIFACTS_URI")
        if uri:
            upload_artifacts(project / os.environ.get("DBT_TARGET_PATH", "target"), uri)
    finally:
        # The last line, always: Airflow's ecs executor reads the log until it sees it.
        print(f"{DONE} (dbt exit code {completed.returncode})", flush=True)
    return completed.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
