"""The embedded stack's SQLite metadata database: readers beside a writer, writers queueing for the lock.

On two busy cores with a big run in flight, an API request failed with
"database is locked" (a 500 "Database error") after SQLite's default 5 s.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from importlib.metadata import version

from dataops.config import load_settings
from dataops.local.airflow_home import AirflowHome
from dataops.local.sqlite_metadata import BUSY_TIMEOUT_S, use_write_ahead_log


def _journal_mode(database) -> str:
    with closing(sqlite3.connect(database)) as connection:
        return connection.execute("pragma journal_mode").fetchone()[0]


def test_airflow_connects_to_the_embedded_database_with_a_long_busy_timeout(tmp_path, monkeypatch):
    from airflow import settings as airflow_settings

    env = AirflowHome.for_settings(load_settings(state_dir=tmp_path / "state")).env()
    for name in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC"):
        monkeypatch.setenv(name, env[name])
    # What Airflow's configure_orm hands SQLAlchemy in each of its processes.
    assert airflow_settings._get_connect_args("sync")["timeout"] == BUSY_TIMEOUT_S >= 30
    assert airflow_settings._get_connect_args("async")["timeout"] == BUSY_TIMEOUT_S


def test_readers_go_on_while_a_writer_holds_the_database(tmp_path):
    database = tmp_path / "airflow.db"
    with closing(sqlite3.connect(database)) as setup:
        setup.execute("create table task_instance (id integer primary key, state text)")
        setup.execute("insert into task_instance (state) values ('running')")
        setup.commit()
    use_write_ahead_log(database)
    assert _journal_mode(database) == "wal"

    with closing(sqlite3.connect(database, isolation_level=None)) as writer, \
            closing(sqlite3.connect(database, timeout=0)) as reader:
        # An exclusive lock is what a commit takes; in the rollback journal no reader gets past it.
        writer.execute("begin exclusive")
        writer.execute("update task_instance set state = 'success'")
        assert reader.execute("select state from task_instance").fetchall() == [("running",)]
        writer.execute("commit")
        assert reader.execute("select state from task_instance").fetchall() == [("success",)]


def test_a_home_migrated_before_write_ahead_logging_gets_it_at_the_next_start(tmp_path):
    home = AirflowHome.for_settings(load_settings(state_dir=tmp_path / "state"))
    home.path.mkdir(parents=True)
    with closing(sqlite3.connect(home.database)) as connection:
        connection.execute("create table t (x)")
    # Marked as migrated by this Airflow: no `airflow db migrate` runs.
    (home.path / ".migrated").write_text(version("apache-airflow"))
    assert _journal_mode(home.database) == "delete"
    home.migrate()
    assert _journal_mode(home.database) == "wal"
