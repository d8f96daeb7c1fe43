"""The services stack on the real PostgreSQL and Redis, started once per test file.

Each of test_stack.py and test_stack_faults.py gets a stack of its own, so
``make test``'s workers run the two side by side. Each stack has unique
database names and a unique Redis key prefix, a free port, its own state
folder and a private copy of the dbt project; all of it is removed afterwards. The stack's broker is a ``redis-server`` of the
session's own, on a free port, which the broker-outage test stops and starts
(the shared Redis is never touched). Without PostgreSQL or ``redis-server``
the tests skip, except under CI=true, where they fail (the rule of
tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataops import paths

# The helper modules beside this file are imported by name.
sys.path.insert(0, str(Path(__file__).parent))

from dataops.local.api import AirflowApi  # noqa: E402
from stack_runs import DAG  # noqa: E402
from stack_support import SCALE, Broker, Stack, free_port, run_dataops  # noqa: E402

# Short timeouts so a lost worker's task is retried within the test's patience;
# everything else is the stack's own defaults.
TUNING = {
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "15",
    "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "1",
    "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "3",
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
    # A changed file is parsed at once (stack_runs.wait_for_new_parse touches it); unchanged ones
    # are parsed again every two minutes, not every 10 s: each parse is a process.
    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "120",
    # A killed triggerer's triggers go to its successor once its heartbeat is this old (Airflow: 30 s).
    "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "15",
    # The window a task waits for the broker (300 s by default): short, so the outage test stays fast.
    "DATAOPS_SERVICES_BROKER_OUTAGE_S": "30",
}


def _unavailable(service: str, reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{service} is required under CI=true but is unavailable: {reason}", pytrace=False)
    pytest.skip(f"{service} unavailable: {reason}")


@pytest.fixture(scope="session")
def broker(tmp_path_factory) -> Iterator[Broker]:
    """A redis-server of the session's own (skips, or fails under CI=true, without redis-server)."""
    if Broker.executable() is None:
        _unavailable("redis-server", "not on PATH (the stack's private broker; e.g. apt-get install redis-server)")
    broker = Broker(tmp_path_factory.mktemp("broker"))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def redis_url(broker: Broker) -> str:
    return broker.url


_current_stack: Stack | None = None


@pytest.fixture(scope="module")
def stack(postgres_server, broker, redis_url, tmp_path_factory) -> Iterator[Stack]:
    global _current_stack
    import psycopg

    uid = uuid.uuid4().hex[:8]
    root = tmp_path_factory.mktemp("services")
    project_dir = root / "dbt"
    shutil.copytree(paths.dbt_project_dir(), project_dir, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    extra_dags = root / "extra-dags"
    extra_dags.mkdir()
    warehouse_db, metadata_db, prefix = f"dataops_wh_{uid}", f"dataops_af_{uid}", f"dataops-test-{uid}:"
    port = free_port()
    env = {
        **os.environ,
        **TUNING,
        "DATAOPS_STATE_DIR": str(root / "state"),
        "DATAOPS_SCALE": SCALE,
        "DATAOPS_DBT_PROJECT_DIR": str(project_dir),
        "DATAOPS_HOME": str(paths.repo_root()),
    }
    pg_url = f"postgresql://{postgres_server.user}@{postgres_server.host}:{postgres_server.port}/{warehouse_db}"
    if postgres_server.password:
        pg_url = pg_url.replace("@", f":{postgres_server.password}@", 1)
    up = run_dataops(
        "up", "--stack", "services", "--detach", "--port", str(port), "--pg-url", pg_url,
        "--redis-url", redis_url, "--redis-prefix", prefix, "--metadata-db", metadata_db,
        "--dags-folder", str(paths.dags_dir()), "--dags-folder", str(extra_dags),
        env=env, timeout_s=900,
    )
    folder = root / "state" / "services"
    stack = Stack(
        uid=uid, url=f"http://127.0.0.1:{port}", password="", env=env, folder=folder, state_dir=root / "state",
        project_dir=project_dir, extra_dags=extra_dags, warehouse_db=warehouse_db, metadata_db=metadata_db,
        redis_prefix=prefix, pg_conninfo=postgres_server.conninfo(warehouse_db), broker=broker,
    )
    _current_stack = stack
    try:
        assert up.returncode == 0, f"dataops up failed:\n{up.stdout}\n{up.stderr}\n{stack.log_tails()}"
        assert "password:" in up.stdout, up.stdout
        stack.password = up.stdout.split("password:")[1].split()[0]
        stack.up_output = up.stdout
        print(f"\nservices stack up at {stack.url} (state in {root})\n{up.stdout}")
        yield stack
    finally:
        _current_stack = None
        run_dataops("down", env=env, timeout_s=180)
        with psycopg.connect(postgres_server.conninfo("postgres"), autocommit=True) as admin:
            for db in (warehouse_db, metadata_db):
                admin.execute(f'drop database if exists "{db}" with (force)')
        # The broker's keys go with the session's redis-server.


@pytest.fixture(scope="module")
def airflow(stack: Stack) -> AirflowApi:
    """The stack's REST API, with the DAGs as the stack serves them (nothing unpaused here)."""
    api = AirflowApi(stack.url, "admin", stack.password)
    api.wait_for_dag(DAG, unpause=False)
    return api


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test on the stack shows the tail of every component's log."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and _current_stack is not None and "stack" in item.fixturenames:
        report.sections.append(("services stack logs", _current_stack.log_tails()))
