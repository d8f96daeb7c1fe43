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

When ``DATAOPS_DBT_PARSE_CACHE_URI`` (``s3://bucket/dbt-parse-cache/<dag>/<key>/partial_parse.msgpack``)
is set, dbt's partial-parse file is fetched from there into the target folder
before dbt runs, and kept there again afterwards: a container starts with
none, and without it dbt would parse the whole project on every run. dbt
records the project's absolute path in that file (a seed is read from it), so
dbt is given the project through a path that stays the same from one run to
the next, whatever the version: ``$TMPDIR/dataops-bundles/stable/<key>``, a
link to this run's project. A missing or unreadable file only costs a full
parse, and a failed save is one line, never the run's outcome.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

ARTIFACTS = ("manifest.json", "run_results.json", "sources.json")
PARSE_FILE = "partial_parse.msgpack"
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


def parse_cache_location(uri: str) -> tuple[str, str]:
    """(bucket, key) of DATAOPS_DBT_PARSE_CACHE_URI; Refused when it is no S3 object's URI."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
        raise Refused(f"DATAOPS_DBT_PARSE_CACHE_URI must look like s3://bucket/key (got {uri!r}).")
    return parsed.netloc, parsed.path.strip("/")


def restore_parse(uri: str, target_dir: Path) -> None:
    """dbt's partial-parse file from ``uri`` into ``target_dir``; without it dbt parses everything."""
    bucket, key = parse_cache_location(uri)
    import boto3

    target_dir.mkdir(parents=True, exist_ok=True)
    try:
        boto3.client("s3").download_file(bucket, key, str(target_dir / PARSE_FILE))
    except Exception as exc:  # a first run (no such key) or S3 unreachable: dbt parses the whole project
        missing = "404" in str(exc) or "NoSuchKey" in str(exc) or "Not Found" in str(exc)
        why = "none saved yet" if missing else f"{type(exc).__name__}: {exc}"
        print(f"dbt-entrypoint: no saved parse at {uri} ({why}): dbt parses the whole project", flush=True)
        return
    print(f"dbt-entrypoint: dbt's saved parse from {uri}", flush=True)


def save_parse(target_dir: Path, uri: str) -> None:
    """dbt's partial-parse file, as this run left it, back to ``uri`` (nothing if dbt wrote none)."""
    path = target_dir / PARSE_FILE
    if not path.is_file():
        return
    bucket, key = parse_cache_location(uri)
    import boto3

    try:
        boto3.client("s3").upload_file(str(path), bucket, key)
    except Exception as exc:  # the next run parses everything; this run's outcome stands
        print(f"dbt-entrypoint: could not save dbt's parse to {uri} ({type(exc).__name__}: {exc})", flush=True)


def stable_project_path(project: Path, uri: str) -> Path:
    """A path to ``project`` that is the same for every run sharing the saved parse at ``uri``."""
    key = hashlib.blake2b(uri.encode(), digest_size=8).hexdigest()
    link = bundles_dir() / "stable" / key
    link.parent.mkdir(parents=True, exist_ok=True)
    if not (link.is_symlink() and Path(os.readlink(link)) == project):
        staged = link.with_name(f".{key}.{os.getpid()}")
        staged.unlink(missing_ok=True)
        staged.symlink_to(project, target_is_directory=True)
        os.replace(staged, link)
    return link


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
    parse_uri = os.environ.get("DATAOPS_DBT_PARSE_CACHE_URI", "").strip()
    try:
        project = find_project(os.environ)
        if parse_uri:
            parse_cache_location(parse_uri)
    except Refused as exc:
        print(f"dbt-entrypoint: {exc}", file=sys.stderr, flush=True)
        return REFUSED
    command = ["dbt", *argv]
    if "--project-dir" not in argv:
        if parse_uri:
            project = stable_project_path(project, parse_uri)
        command += ["--project-dir", str(project)]
    target_dir = project / os.environ.get("DBT_TARGET_PATH", "target")
    if parse_uri:
        restore_parse(parse_uri, target_dir)
    completed = subprocess.run(command, cwd=project, check=False)
    try:
        if parse_uri:
            save_parse(target_dir, parse_uri)
        uri = os.environ.get("DATAOPS_DBT_ARTIFACTS_URI")
        if uri:
            upload_artifacts(target_dir, uri)
    finally:
        # The last line, always: Airflow's ecs executor reads the log until it sees it.
        print(f"{DONE} (dbt exit code {completed.returncode})", flush=True)
    return completed.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
