#!/usr/bin/env python3
"""Run dbt with the container's arguments, then keep its artifacts in S3.

``dbt-entrypoint build --select x`` runs ``dbt build --select x``. When
``DATAOPS_DBT_ARTIFACTS_URI`` (``s3://bucket/dbt/<run id>``) is set, typically
as a RunTask container override, the run's ``manifest.json``,
``run_results.json`` and ``sources.json`` are uploaded there, also after a
failed run, so Airflow can read the results. dbt's exit code is returned.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

ARTIFACTS = ("manifest.json", "run_results.json", "sources.json")


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


def main(argv: list[str]) -> int:
    completed = subprocess.run(["dbt", *argv], check=False)
    uri = os.environ.get("DATAOPS_DBT_ARTIFACTS_URI")
    if uri:
        project = Path(os.environ.get("DATAOPS_DBT_PROJECT_DIR", "."))
        upload_artifacts(project / os.environ.get("DBT_TARGET_PATH", "target"), uri)
    return completed.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
