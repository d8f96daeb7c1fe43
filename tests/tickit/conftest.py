"""Fixtures for the TICKIT tests: generated sample folders and a loopback S3."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dataops.config import Settings, load_settings
from dataops.tickit.generator import generate

SMALL_SCALE = 0.02


@pytest.fixture(scope="session")
def sf1_dir(tmp_path_factory) -> Path:
    """SF 1 (the real sample's row counts), generated once per session. Read only."""
    out = tmp_path_factory.mktemp("tickit") / "sf1"
    generate(out, scale=1, seed=42)
    return out


@pytest.fixture(scope="session")
def _small_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tickit") / "small"
    generate(out, scale=SMALL_SCALE, seed=7)
    return out


@pytest.fixture
def small_dir(_small_dir, tmp_path) -> Path:
    """A small generated sample the test may modify (a private copy)."""
    copy = tmp_path / "small"
    shutil.copytree(_small_dir, copy)
    return copy


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    """Settings whose state (and DuckDB warehouse) live in tmp_path, unaffected by a .env."""
    monkeypatch.chdir(tmp_path)
    return load_settings(state_dir=tmp_path / "state")


def _corrupt_line(path: Path, line: int, edit) -> None:
    lines = path.read_text().splitlines(keepends=True)
    lines[line - 1] = edit(lines[line - 1].rstrip("\n")) + "\n"
    path.write_text("".join(lines))


@pytest.fixture
def corrupt_line():
    """``corrupt_line(path, n, edit)`` replaces 1-based line n by ``edit(old line)``."""
    return _corrupt_line


@pytest.fixture
def s3_env(aws_endpoint, monkeypatch) -> dict[str, str]:
    """Points DATAOPS_S3_* and dummy AWS credentials at the loopback S3, with a fresh bucket."""
    import uuid

    import boto3

    bucket = f"tickit-{uuid.uuid4().hex[:10]}"
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "DATAOPS_S3_BUCKET": bucket,
        "DATAOPS_S3_PREFIX": "samples/tickit/",
        "DATAOPS_S3_ENDPOINT_URL": aws_endpoint,
        "DATAOPS_S3_REGION": "us-east-1",
        "DATAOPS_REDSHIFT_COPY_ROLE_ARN": "arn:aws:iam::123456789012:role/TickitCopy",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return env
