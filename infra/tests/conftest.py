"""One synthesized platform per test session (synth is the slow part).

The main fixture turns on everything optional that changes the templates
(HTTPS with a public host name, restricted CIDRs, the GitHub role); the
defaults-only variant is what the CDK CLI test synthesizes.
"""

from __future__ import annotations

import os

# Before aws_cdk starts its Node runtime.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# Never read a developer's infra/.env in tests.
os.environ["INFRA_ENV_FILE"] = os.devnull

import pytest  # noqa: E402
from aws_cdk import App  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from dataops_infra.platform import Platform, add_nag_checks, build_platform, cdk_json_context  # noqa: E402
from dataops_infra.settings import InfraSettings, load_settings  # noqa: E402

ALLOWED_CIDR = "203.0.113.0/24"
CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0f4f4e43-6f6e-4c1b-9a43-1d7c6d8e9f00"
GITHUB_REPOSITORY = "example-org/dataops"
# The commit the images were built from (tags are immutable; deploys name the commit).
IMAGE_TAG = "0123456789abcdef0123456789abcdef01234567"


def full_settings(**overrides: object) -> InfraSettings:
    return load_settings(
        allowed_cidrs=[ALLOWED_CIDR],
        certificate_arn=CERTIFICATE_ARN,
        public_hostname="airflow.example.com",
        github_repository=GITHUB_REPOSITORY,
        image_tag=IMAGE_TAG,
        **overrides,
    )


def synthesized(settings: InfraSettings, tmp_dir: str) -> Platform:
    app = App(context=cdk_json_context(), outdir=tmp_dir)
    platform = build_platform(app, settings)
    add_nag_checks(app)
    app.synth()  # fails on any unacknowledged cdk-nag finding
    return platform


@pytest.fixture(scope="session")
def settings() -> InfraSettings:
    return full_settings()


@pytest.fixture(scope="session")
def platform(settings: InfraSettings, tmp_path_factory: pytest.TempPathFactory) -> Platform:
    return synthesized(settings, str(tmp_path_factory.mktemp("cdk-out")))


@pytest.fixture(scope="session")
def serverless_platform(tmp_path_factory: pytest.TempPathFactory) -> Platform:
    """Redshift Serverless, no certificate, no protection: the other branches of the constructs."""
    settings = load_settings(
        redshift_serverless=True, deletion_protection=False, broker_replicas=1, metadata_db_multi_az=True
    )
    return synthesized(settings, str(tmp_path_factory.mktemp("cdk-out-serverless")))


@pytest.fixture(scope="session")
def templates(platform: Platform) -> dict[str, Template]:
    return {stack.node.id: Template.from_stack(stack) for stack in platform.stacks}


def template_of(platform: Platform, part: str) -> Template:
    return Template.from_stack(getattr(platform, part))
