"""infra/.env validation: defaults that synthesize, errors that name the key."""

from __future__ import annotations

import pytest

from dataops_infra.settings import DUMMY_ACCOUNT, SettingsError, load_settings


def test_defaults_need_no_env_file():
    settings = load_settings()
    assert (settings.account, settings.region, settings.prefix) == (DUMMY_ACCOUNT, "us-east-1", "dataops")
    assert settings.allowed_cidrs == []  # the load balancer stays closed until CIDRs are listed
    assert settings.deletion_protection is True
    assert settings.zone_count == 2


def test_env_file_and_environment(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "INFRA_REGION=eu-west-1\nINFRA_ALLOWED_CIDRS=203.0.113.0/24, 198.51.100.7/32\n"
        "INFRA_LOAD_BALANCER_SCHEME=internal\nINFRA_CERTIFICATE_ARN=arn:aws:acm:us-east-1:123456789012:certificate/ab-12\n"
    )
    monkeypatch.setenv("INFRA_ENV_FILE", str(env_file))
    monkeypatch.setenv("INFRA_WORKER_MAX", "8")
    settings = load_settings()
    assert settings.region == "eu-west-1"
    assert settings.allowed_cidrs == ["203.0.113.0/24", "198.51.100.7/32"]
    assert settings.certificate_arn == "arn:aws:acm:us-east-1:123456789012:certificate/ab-12"
    assert settings.worker_max == 8


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("INFRA_ALLOWED_CIDRS", "0.0.0.0/0", "whole internet"),
        # Counted by the addresses covered, not by spelling.
        ("INFRA_ALLOWED_CIDRS", "0.0.0.0/1,128.0.0.0/1", "whole internet"),
        ("INFRA_ALLOWED_CIDRS", "0.0.0.0/2,64.0.0.0/2,128.0.0.0/2,192.0.0.0/2", "whole internet"),
        ("INFRA_ALLOWED_CIDRS", "10.0.0.0/8,11.0.0.0/32", "covers 16,777,217 addresses, more than a /8"),
        ("INFRA_ALLOWED_CIDRS", "64.0.0.0/2", "more than a /8"),
        ("INFRA_LOAD_BALANCER_SCHEME", "public", "pattern"),
        ("INFRA_IMAGE_TAG", "latest", "mutable tags such as 'latest' are refused"),
        ("INFRA_IMAGE_TAG", "v1.2", "must be the commit"),
        ("INFRA_ALLOWED_CIDRS", "10.0.0.0/33", "not an IPv4 CIDR"),
        ("INFRA_REGION", "Mars", "pattern"),
        ("INFRA_ACCOUNT", "12345", "pattern"),
        ("INFRA_DELETION_PROTECTION", "maybe", "boolean"),
        ("INFRA_WORKER_MEMORY", "1000", "INFRA_WORKER_CPU=1024 Fargate accepts 2048..8192"),
        ("INFRA_DBT_CPU", "300", "Fargate accepts 256"),
        ("INFRA_LOG_RETENTION_DAYS", "31", "CloudWatch Logs accepts only"),
        ("INFRA_VPC_CIDR", "8.8.0.0/16", "private IPv4 range"),
        ("INFRA_REDSHIFT_SERVERLESS_BASE_RPU", "12", "multiple of 8"),
        ("INFRA_BROKER_ENGINE", "memcached", "pattern"),
    ],
)
def test_bad_value_names_the_key(monkeypatch, key, value, message):
    monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert f"  {key}: " in str(error.value)
    assert message in str(error.value)


def test_cross_field_rules_name_the_key(monkeypatch):
    monkeypatch.setenv("INFRA_WORKER_MIN", "5")
    monkeypatch.setenv("INFRA_WORKER_MAX", "2")
    with pytest.raises(SettingsError, match="INFRA_WORKER_MIN: must not exceed INFRA_WORKER_MAX"):
        load_settings()
    with pytest.raises(SettingsError, match="INFRA_PUBLIC_HOSTNAME: needs INFRA_CERTIFICATE_ARN"):
        load_settings(worker_min=1, public_hostname="airflow.example.com")
    with pytest.raises(
        SettingsError, match="INFRA_AVAILABILITY_ZONES: Redshift Serverless needs subnets in three zones"
    ):
        load_settings(worker_min=1, redshift_serverless=True, availability_zones=["us-east-1a", "us-east-1b"])


def test_cidrs_are_counted_by_addresses_not_spelling():
    from dataops_infra.settings import MAX_ALLOWED_ADDRESSES

    # Overlapping ranges count once: a /8 listed with its own halves is still a /8.
    settings = load_settings(
        allowed_cidrs=["10.0.0.0/8", "10.0.0.0/9", "10.128.0.0/9"],
        load_balancer_scheme="internal",
        certificate_arn=CERT,
    )
    assert settings.allowed_cidrs == ["10.0.0.0/8", "10.0.0.0/9", "10.128.0.0/9"]
    with pytest.raises(SettingsError, match="INFRA_ALLOWED_CIDRS: .* covers 16,777,472 addresses"):
        load_settings(
            allowed_cidrs=["10.0.0.0/8", "11.0.0.0/24"], load_balancer_scheme="internal", certificate_arn=CERT
        )
    assert MAX_ALLOWED_ADDRESSES == 2**24


CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f4f4e43-6f6e-4c1b-9a43-1d7c6d8e9f00"


def test_a_load_balancer_with_cidrs_needs_a_certificate():
    with pytest.raises(SettingsError) as error:
        load_settings(allowed_cidrs=["203.0.113.0/24"])
    assert "INFRA_CERTIFICATE_ARN: an internet-facing load balancer with INFRA_ALLOWED_CIDRS" in str(error.value)
    assert "set an ACM certificate ARN (HTTPS)" in str(error.value)
    # Internal: still HTTPS, since the identity provider returns users only to https:// addresses.
    with pytest.raises(SettingsError, match="INFRA_CERTIFICATE_ARN: sign-in needs HTTPS even on an internal"):
        load_settings(allowed_cidrs=["10.1.0.0/16"], load_balancer_scheme="internal")
    # Closed (no CIDRs): nothing to protect yet, no certificate needed.
    assert load_settings().internet_facing
    internal = load_settings(allowed_cidrs=["10.1.0.0/16"], load_balancer_scheme="internal", certificate_arn=CERT)
    assert not internal.internet_facing


def test_image_tag_defaults_to_the_checkout_commit():
    from dataops_infra.settings import checkout_commit

    commit = checkout_commit()
    assert len(commit) == 40
    assert load_settings().image_tag == commit
    assert load_settings(image_tag="0123abc").image_tag == "0123abc"


def test_serverless_uses_three_zones():
    assert load_settings(redshift_serverless=True).zone_count == 3


def test_as_environment_round_trips(monkeypatch):
    settings = load_settings(allowed_cidrs=["203.0.113.0/24"], certificate_arn=CERT, deletion_protection=False)
    for key, value in settings.as_environment().items():
        monkeypatch.setenv(key, value)
    assert load_settings() == settings
