"""The embedded stack's SQLite metadata database, set up for several writers.

Every component of the embedded stack (scheduler, DAG processor, triggerer,
API server) writes to one SQLite file. In SQLite's default rollback journal
a writer's commit blocks every reader, and a connection gives up after
Python's default 5 s: on two busy cores, with a big run's triggers and task
states being written, an API request then failed with "database is locked"
(a 500 "Database error"). Write-ahead logging lets readers go on beside the
writer, and a 30 s busy timeout makes a writer queue for the lock rather
than fail.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 30.0

# Airflow imports these by name in each of its processes:
# [database] sql_alchemy_connect_args and sql_alchemy_connect_args_async. Two dicts, because
# Airflow adds the sync driver's check_same_thread to the one it is given.
CONNECT_ARGS = {"timeout": BUSY_TIMEOUT_S}
CONNECT_ARGS_ASYNC = {"timeout": BUSY_TIMEOUT_S}

AIRFLOW_ENV = {
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": f"{__name__}.CONNECT_ARGS",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC": f"{__name__}.CONNECT_ARGS_ASYNC",
}


def use_write_ahead_log(database: Path) -> None:
    """Switch ``database`` to write-ahead logging (kept in the file: once is enough)."""
    with closing(sqlite3.connect(database, timeout=BUSY_TIMEOUT_S)) as connection:
        mode = connection.execute("pragma journal_mode=wal").fetchone()[0]
    if mode != "wal":
        # The stack still works, with readers waiting on writers (a file system without shared memory).
        log.warning("SQLite kept journal mode %r for %s: Airflow's requests may wait on each other", mode, database)
