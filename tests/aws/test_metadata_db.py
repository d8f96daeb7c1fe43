"""The metadata database's rotating password and verified TLS (dataops.aws.metadata_db)."""

from __future__ import annotations

import json
import ssl

import pytest

from dataops.aws import metadata_db
from dataops.aws.metadata_db import (
    PasswordSource,
    async_tls,
    connect_with_current_password,
    create_async_metadata_engine,
    create_metadata_engine,
)

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1234"


class FakeSecrets:
    """Secrets Manager holding one RDS-managed secret whose password can change."""

    def __init__(self, password: str) -> None:
        self.value, self.reads = password, 0

    def get_secret_value(self, SecretId: str) -> dict:  # noqa: N803 (boto3's argument name)
        assert SecretId == ARN
        self.reads += 1
        return {"SecretString": json.dumps({"username": "airflow", "password": self.value})}


class FakeDialect:
    """Accepts only the database's current password, as PostgreSQL does."""

    def __init__(self, secrets: FakeSecrets) -> None:
        self.secrets, self.tries = secrets, []

    def connect(self, *cargs, **cparams):
        self.tries.append(cparams["password"])
        if cparams["password"] != self.secrets.value:
            raise RuntimeError('FATAL:  password authentication failed for user "airflow"')
        return "connection"


def test_the_password_is_cached_then_read_again():
    secrets, now = FakeSecrets("one"), [0.0]
    source = PasswordSource(ARN, lambda: secrets, clock=lambda: now[0], ttl=300)
    assert source.password() == "one" and source.password() == "one"
    assert secrets.reads == 1
    secrets.value = "two"
    now[0] = 301.0
    assert source.password() == "two" and secrets.reads == 2


def test_a_rotated_password_is_read_again_at_once_when_refused():
    secrets = FakeSecrets("before")
    source = PasswordSource(ARN, lambda: secrets, clock=lambda: 0.0)
    dialect = FakeDialect(secrets)
    assert connect_with_current_password(dialect, (), {"user": "airflow"}, source) == "connection"
    secrets.value = "after"  # RDS rotated it; the cache still holds "before"
    assert connect_with_current_password(dialect, (), {"user": "airflow"}, source) == "connection"
    assert dialect.tries == ["before", "before", "after"]


def test_other_connection_errors_are_not_retried():
    secrets = FakeSecrets("pw")
    source = PasswordSource(ARN, lambda: secrets)

    class Down:
        def connect(self, *cargs, **cparams):
            raise RuntimeError("could not connect to server: Connection refused")

    with pytest.raises(RuntimeError, match="Connection refused"):
        connect_with_current_password(Down(), (), {}, source)
    assert secrets.reads == 1


URL = (
    "postgresql+asyncpg://airflow@db.example.internal:5432/airflow"
    "?sslmode=verify-full&sslrootcert=/opt/dataops/certs/rds-global-bundle.pem"
)


def test_async_urls_get_a_verifying_ssl_context():
    import certifi  # any CA bundle loads the same way as the image's RDS bundle

    url, tls = async_tls(URL.replace("/opt/dataops/certs/rds-global-bundle.pem", certifi.where()))
    assert url == "postgresql+asyncpg://airflow@db.example.internal:5432/airflow"
    context = tls["ssl"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname is True
    assert async_tls("sqlite+aiosqlite:///x.db") == ("sqlite+aiosqlite:///x.db", {})


def test_engines_sign_in_through_the_secret_only_when_it_is_named(monkeypatch):
    sync_url = "postgresql+psycopg2://airflow@db.example.internal:5432/airflow?sslmode=verify-full"
    monkeypatch.delenv(metadata_db.SECRET_ARN_VARIABLE, raising=False)
    plain = create_metadata_engine(sync_url, engine_args={}, connect_args={})
    assert not plain.dialect.dispatch.do_connect
    monkeypatch.setenv(metadata_db.SECRET_ARN_VARIABLE, ARN)
    engine = create_metadata_engine(sync_url, engine_args={}, connect_args={})
    assert len(engine.dialect.dispatch.do_connect) == 1
    assert engine.url.password is None  # no password in the URL, ever
    async_engine = create_async_metadata_engine(URL.split("?")[0], connect_args={})
    assert len(async_engine.sync_engine.dialect.dispatch.do_connect) == 1
