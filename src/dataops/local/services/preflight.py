"""Checks made before anything starts: the servers answer, the port is free.

Each failure is a DataOpsError naming the server or port and what to do, so
``dataops up`` refuses in one line instead of leaving half a stack behind.
"""

from __future__ import annotations

from dataops.errors import DataOpsError
from dataops.local import processes
from dataops.local.services.config import PostgresServer, RedisServer, ServicesConfig

_PG_HELP = "Start PostgreSQL or point --pg-url at a running server, e.g. postgresql://user:password@host:5432"
_REDIS_HELP = "Start Redis or point --redis-url at a running server, e.g. redis://127.0.0.1:6379/0"


def check_postgres(pg: PostgresServer, timeout_s: int = 5) -> None:
    import psycopg

    try:
        with psycopg.connect(pg.conninfo("postgres"), connect_timeout=timeout_s, autocommit=True) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        raise DataOpsError(
            f"PostgreSQL at {pg.address} (user {pg.user}) is unusable: {driver_problem(exc)}. {_PG_HELP}."
        ) from None


def check_redis(redis_server: RedisServer, timeout_s: float = 5.0) -> None:
    import redis

    try:
        client = redis.Redis.from_url(redis_server.url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        raise DataOpsError(f"Redis at {redis_server.address} is unusable: {driver_problem(exc)}. {_REDIS_HELP}.") from None


def driver_problem(exc: BaseException) -> str:
    """The first line of a driver's error, without its closing punctuation, so
    a sentence can follow it (not "connections?. Start ...")."""
    text = str(exc).strip()
    first = text.splitlines()[0].strip() if text else type(exc).__name__
    return first.rstrip(".!?;: ") or type(exc).__name__


def check_port(port: int) -> None:
    processes.require_free_port(port, "the Airflow API server", "--port")


def check_all(config: ServicesConfig) -> None:
    check_port(config.api_port)
    check_postgres(config.pg)
    check_redis(config.redis)
