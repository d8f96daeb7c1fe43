"""The Makefile targets: offline ones work, AWS ones stop at once without credentials."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

INFRA = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def no_aws_env(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return env | {
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
        # No instance-metadata lookup: this machine is no EC2 instance.
        "AWS_EC2_METADATA_DISABLED": "true",
        "INFRA_ENV_FILE": os.devnull,
    }


def make(target: str, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(INFRA), target, *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("target", "extra"),
    [("bootstrap", ()), ("push_images", ()), ("deploy", ()), ("destroy", ()), ("generate_fernet", ("STORE=1",))],
)
def test_aws_targets_fail_fast_without_credentials(no_aws_env, target, extra):
    result = make(target, no_aws_env, *extra)
    assert result.returncode != 0
    assert "No AWS credentials found" in result.stderr
    # Nothing reached the CDK CLI or Docker.
    assert "cdk " not in result.stdout and "docker" not in result.stdout


def test_generate_fernet_prints_a_valid_key(no_aws_env):
    result = make("generate_fernet", no_aws_env)
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    Fernet(key.encode())  # raises if it is not a Fernet key


def test_bad_settings_stop_the_targets_with_the_key_name(no_aws_env):
    result = make("deploy", no_aws_env | {"INFRA_ALLOWED_CIDRS": "0.0.0.0/0"})
    assert result.returncode != 0
    assert "INFRA_ALLOWED_CIDRS" in result.stderr
