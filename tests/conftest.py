"""Fixtures shared by the whole test suite.

PostgreSQL
----------
``postgres_db`` gives each test a fresh, uniquely named database on the real
server (``dataops_test_<random>``) and drops it afterwards. It yields a
``PostgresDatabase`` with the database's name, its ``conninfo`` and ``env``,
the ``DATAOPS_PG_*`` variables that point the platform's settings at it::

    def test_something(postgres_db, monkeypatch):
        for name, value in postgres_db.env.items():
            monkeypatch.setenv(name, value)
        settings = load_settings()  # settings.section(PostgresSettings) -> that database
        with psycopg.connect(postgres_db.conninfo) as conn: ...

``postgres_url`` is the same database's conninfo string alone.

The server is the one the platform's settings name (``DATAOPS_PG_HOST``,
``_PORT``, ``_USER``, ``_PASSWORD``; by default 127.0.0.1:5432 as postgres).
When it cannot be reached, the tests using these fixtures are skipped with the
reason shown, except under ``CI=true``, where they fail: CI must not go green
by skipping them. Mark such tests ``@pytest.mark.services``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

# The tests' shared helper modules (ui_support.py, trigger_logs.py) sit beside this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# Airflow reads its configuration once, at import: give the test session a home
# of its own (never the developer's ~/airflow) before anything imports it.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="dataops-tests-airflow-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME}/airflow.db"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str

    def conninfo(self, database: str) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(
            host=self.host, port=self.port, user=self.user, password=self.password or None, dbname=database
        )

    def create_database(self, prefix: str = "dataops_test_") -> PostgresDatabase:
        """A new, uniquely named database; ``drop()`` it when done."""
        import psycopg
        from psycopg import sql

        name = f"{prefix}{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        env = {
            "DATAOPS_PG_HOST": self.host,
            "DATAOPS_PG_PORT": str(self.port),
            "DATAOPS_PG_USER": self.user,
            "DATAOPS_PG_PASSWORD": self.password,
            "DATAOPS_PG_DATABASE": name,
        }
        return PostgresDatabase(self, name, self.conninfo(name), env)


@dataclass(frozen=True)
class PostgresDatabase:
    server: PostgresServer
    name: str
    conninfo: str
    # The DATAOPS_PG_* variables that point the platform at this database.
    env: dict[str, str] = field(default_factory=dict)

    def drop(self) -> None:
        """Drops the database, with any connections still open to it."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.server.conninfo("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(self.name)))


def service_unavailable(service: str, reason: str) -> None:
    """Skips the test, or fails it under CI=true, because ``service`` is missing."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{service} is required under CI=true but is unavailable: {reason}", pytrace=False)
    pytest.skip(f"{service} unavailable: {reason}")


@pytest.fixture(scope="session")
def _postgres_probe() -> tuple[PostgresServer, str | None]:
    """The configured server and why it is unusable (None when it is fine)."""
    import psycopg

    from dataops.warehouses.postgres import PostgresSettings

    settings = PostgresSettings()
    server = PostgresServer(settings.host, settings.port, settings.user, settings.password.get_secret_value())
    try:
        with psycopg.connect(server.conninfo("postgres"), connect_timeout=5, autocommit=True) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        return server, f"{server.host}:{server.port}: {str(exc).strip()}"
    return server, None


@pytest.fixture(scope="session")
def postgres_server(_postgres_probe) -> PostgresServer:
    """The reachable PostgreSQL server (skips, or fails under CI=true, without one)."""
    server, problem = _postgres_probe
    if problem:
        service_unavailable("PostgreSQL", problem)
    return server


@pytest.fixture
def postgres_db(postgres_server: PostgresServer) -> Iterator[PostgresDatabase]:
    """A fresh database for one test, dropped (with its connections) afterwards."""
    database = postgres_server.create_database()
    try:
        yield database
    finally:
        database.drop()


@pytest.fixture
def postgres_url(postgres_db: PostgresDatabase) -> str:
    """The conninfo of a fresh test database (see ``postgres_db``)."""
    return postgres_db.conninfo


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """Real AWS HTTP APIs (moto's server: S3, ECS, CloudWatch Logs) on a free loopback port."""
    from moto.server import ThreadedMotoServer

    from dataops.local.processes import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def compiled_analytics_project() -> None:
    """The TICKIT project's graph artifact, which the DAG files in analytics/dags read.

    ``target/`` is not in Git: a clean clone has no artifact until
    ``dataops dbt manifest`` runs, as the demo and the images do. Test workers
    running side by side compile it one at a time (the first compiles, the
    others find it fresh).
    """
    import fcntl

    from dataops.config import load_settings
    from dataops.dbt.manifest import ensure_compiled
    from dataops.dbt.project import DbtProject

    project = DbtProject.from_settings(load_settings())
    lock_file = project.project_dir / "target" / ".dataops-tests.lock"
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ensure_compiled(project)


def pytest_collection_modifyitems(config, items):
    """The costly files first, so ``make test``'s parallel workers start them early.

    ``make test`` runs the files side by side (pytest-xdist, ``--dist
    loadfile --no-loadscope-reorder``: each file in one worker, so a file's
    local Airflow starts once, handed out in this order; xdist's own reorder
    would hand out the files with most tests first). The suite is CPU-bound
    and its tail is the longest file: the heaviest start first, each on a
    worker of its own.
    """
    def order(item) -> int:
        path = item.nodeid.split("::")[0]
        if path in FIRST_FILES:
            return FIRST_FILES.index(path)
        return len(FIRST_FILES) + (0 if item.get_closest_marker("slow") else 1)

    items.sort(key=order)


# The files that take longest, each waiting on a local Airflow: started first, so none is left for the end.
# Each runs an Airflow of its own (CPU seconds of the machine with each file alone on two cores,
# 2026-12-01; the whole suite took 947 CPU-s, so it is bound by CPU, not by these files' length):
LONGEST_FILES = (
    "tests/services/test_stack.py",        # 182 CPU-s, 169 s
    "tests/services/test_stack_faults.py", # 145, 155 s
    "tests/airflow/test_e2e.py",           # 178, 147 s, with a 200-model run beside
)
# Started first, heaviest first.
FIRST_FILES = (
    *LONGEST_FILES,
    "tests/airflow/test_own_profiles.py",  # 64
    "tests/airflow/test_ecs_executor.py",  # 55
    "tests/ci/test_ci_duckdb.py",          # 52
    "tests/analytics/test_tickit_models.py",  # 46
)
_niced = False


def pytest_runtest_setup(item):
    """Side by side (pytest-xdist), a worker leaves the CPU to the longest files once it
    runs any other: the suite is CPU-bound, and the others fill the cores the longest
    leave idle while they wait on Airflow. One-way, so no privilege is needed."""
    global _niced
    if _niced or not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    if item.nodeid.split("::")[0] not in LONGEST_FILES:
        os.nice(10)
        _niced = True


_started = None


def pytest_configure(config):
    global _started
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        from machine_cpu import Reading

        _started = Reading.now()


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter):
    """After the slowest tests: how busy the machine's cores were (tests/machine_cpu.py)."""
    from machine_cpu import Reading, summary

    end = Reading.now()
    if _started is not None and end is not None:
        terminalreporter.write_line(summary(_started, end, os.cpu_count() or 1))


def pytest_sessionfinish(session, exitstatus):
    import shutil

    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)
