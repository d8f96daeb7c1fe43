"""Airflow's metadata database on AWS: a rotating password, verified TLS.

RDS manages and rotates the database's password in Secrets Manager, so no URL
holds it. Airflow's ``sql_alchemy_conn`` names the user, host and TLS settings
only; each *new* connection asks this module for the current password (cached
for a few minutes, read again at once when the database refuses it). Open
connections stay signed in through a rotation, and new ones use the new value:
the services survive a rotation without a restart.

Airflow 3 lets ``airflow_local_settings.py`` replace how it creates its engines
(``create_metadata_engine``, ``create_async_metadata_engine``); the Airflow image's
``airflow_local_settings.py`` exports the two functions below. Without
``DATAOPS_METADATA_DB_SECRET_ARN`` they create the engines exactly as Airflow does.

The async engine (asyncpg) does not read libpq's ``sslmode``/``sslrootcert``
from the URL: they become an SSL context that verifies the server's certificate
against the same CA bundle and checks its host name (``verify-full``).
"""

from __future__ import annotations

import json
import os
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SECRET_ARN_VARIABLE = "DATAOPS_METADATA_DB_SECRET_ARN"
CACHE_SECONDS = 300
_AUTH_FAILURE = "password authentication failed"


class PasswordSource:
    """The current password of a Secrets Manager secret (JSON with ``password``, as RDS writes it)."""

    def __init__(
        self,
        secret_arn: str,
        client: Callable[[], Any] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        ttl: float = CACHE_SECONDS,
    ) -> None:
        self.secret_arn = secret_arn
        self._client = client or _secrets_manager
        self._clock, self._ttl = clock, ttl
        self._lock = threading.Lock()
        self._value: str | None = None
        self._read_at = 0.0

    def password(self, *, fresh: bool = False) -> str:
        with self._lock:
            if fresh or self._value is None or self._clock() - self._read_at > self._ttl:
                secret = self._client().get_secret_value(SecretId=self.secret_arn)["SecretString"]
                self._value = json.loads(secret)["password"]
                self._read_at = self._clock()
            return self._value


def _secrets_manager() -> Any:
    import boto3

    return boto3.client("secretsmanager")


def connect_with_current_password(dialect: Any, cargs: tuple, cparams: dict, source: PasswordSource) -> Any:
    """Connect with the cached password; if the database refuses it (rotated meanwhile), read it again once."""
    cparams["password"] = source.password()
    try:
        return dialect.connect(*cargs, **cparams)
    except Exception as error:
        if _AUTH_FAILURE not in str(error):
            raise
    cparams["password"] = source.password(fresh=True)
    return dialect.connect(*cargs, **cparams)


def use_password_source(engine: Engine, source: PasswordSource) -> None:
    """Every new DBAPI connection of ``engine`` signs in with ``source``'s current password."""

    @event.listens_for(engine, "do_connect")
    def _connect(dialect, conn_rec, cargs, cparams):  # noqa: ANN001 (SQLAlchemy's event signature)
        return connect_with_current_password(dialect, cargs, cparams, source)


def async_tls(url: str) -> tuple[str, dict[str, Any]]:
    """``url`` without libpq's TLS parameters, and asyncpg's ``ssl`` argument that does what they said."""
    parsed = make_url(url)
    mode = parsed.query.get("sslmode")
    root = parsed.query.get("sslrootcert")
    if not mode or parsed.get_backend_name() != "postgresql":
        return url, {}
    stripped = parsed.difference_update_query(["sslmode", "sslrootcert"]).render_as_string(hide_password=False)
    if mode == "verify-full":
        context = ssl.create_default_context(cafile=root)
        context.check_hostname = True
        return stripped, {"ssl": context}
    if mode == "verify-ca":
        context = ssl.create_default_context(cafile=root)
        context.check_hostname = False
        return stripped, {"ssl": context}
    return stripped, {"ssl": mode}


def _source() -> PasswordSource | None:
    arn = os.environ.get(SECRET_ARN_VARIABLE)
    return PasswordSource(arn) if arn else None


def create_metadata_engine(
    sql_alchemy_conn: str, *, engine_args: dict[str, Any], connect_args: dict[str, Any]
) -> Engine:
    """Airflow's sync engine; with the secret variable set, signing in with the rotating password."""
    engine = create_engine(sql_alchemy_conn, connect_args=connect_args, **engine_args, future=True)
    if source := _source():
        use_password_source(engine, source)
    return engine


def create_async_metadata_engine(
    sql_alchemy_conn_async: str, *, connect_args: dict[str, Any], engine_args: dict[str, Any] | None = None
) -> AsyncEngine:
    """Airflow's async engine, with verified TLS for asyncpg and the rotating password."""
    url, tls = async_tls(sql_alchemy_conn_async)
    engine = create_async_engine(url, connect_args={**tls, **connect_args}, **(engine_args or {}), future=True)
    if source := _source():
        use_password_source(engine.sync_engine, source)
    return engine
