"""Which node failures a dropped warehouse connection caused, and so deserve another go.

A connection that drops during a model (the server restarted, a network
blip, the warehouse killed idle sessions) fails that model with the
driver's words, and dbt skips what depends on it. Building those nodes again
usually succeeds; a failure for any other reason (bad SQL, a failed test,
permissions) would fail again the same way and stays final.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# What PostgreSQL's and Redshift's drivers (psycopg2, redshift_connector) and the OS say when the
# connection itself fails, not the statement.
_CONNECTION_ERRORS = re.compile(
    "|".join(
        (
            r"server closed the connection unexpectedly",
            r"connection already closed",
            r"could not connect to server",
            r"connection to server at .* failed",
            r"connection refused",
            r"connection reset",
            r"connection timed out",
            r"ssl syscall error",
            r"ssl connection has been closed unexpectedly",
            r"eof detected",
            r"could not receive data from server",
            r"could not send data to server",
            r"no connection to the server",
            r"terminating connection due to administrator command",
            r"broken pipe",
            r"network is unreachable",
            r"the database system is (starting up|shutting down|in recovery mode)",
        )
    ),
    re.IGNORECASE,
)


def is_connection_error(message: str | None) -> bool:
    """Whether dbt's message for a failed node says the warehouse connection failed."""
    return bool(message) and _CONNECTION_ERRORS.search(message) is not None


def all_connection_errors(messages: Iterable[str | None]) -> bool:
    """Whether there are messages and every one is a connection error (a node and its tests)."""
    messages = list(messages)
    return bool(messages) and all(is_connection_error(m) for m in messages)
