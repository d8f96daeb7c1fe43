"""Benchmark: publishing the TICKIT project, and how soon Airflow runs what was published.

    python bench/bench_delivery.py          # needs PostgreSQL and Redis (the services stack)

``run()`` returns, for ``make bench`` to collect:

* ``publish_s``: wall time of ``dataops publish`` of a one-line model change
  to the TICKIT project (dbt parse, the DAG files' import check, archive,
  upload, pointer swap), on a local bundle store;
* ``publish_to_live_s``: from the end of that publish to the first task of a
  run, triggered as soon as Airflow serves the new version, running on that
  version, on the services stack started with ``--dags published``
  (target: 10 s); ``publish_to_served_s`` is its first part, until the
  DAG processor has parsed the new version.

Everything lives in a temporary folder, PostgreSQL databases and a Redis
prefix of its own, removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

try:
    import dataops  # noqa: F401
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from dataops import paths
from dataops.config import load_settings
from dataops.warehouses.postgres import PostgresSettings

DAG_ID = "redshift_transformations"
MODEL = "analytics/dbt/models/marts/top_buyer_data_model.sql"
DATAOPS = str(Path(sys.executable).parent / "dataops")


def run(quick: bool = False) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="dataops-bench-delivery-") as tmp:
        return _measure(Path(tmp))


def _measure(root: Path) -> dict[str, object]:
    from dataops.delivery.publish import publish
    from dataops.delivery.store import LocalBundleStore
    from dataops.local.api import AirflowApi

    uid = uuid.uuid4().hex[:8]
    store_dir = root / "bundles"
    repo = _analytics_repo(root / "platform")
    env = {
        **os.environ,
        "DATAOPS_STATE_DIR": str(root / "state"),
        "DATAOPS_BUNDLE_STORE": str(store_dir),
        "DATAOPS_SCALE": "0.05",
    }
    settings = load_settings(state_dir=root / "state", target="postgres")
    store = LocalBundleStore(store_dir)
    publish(store, repo, "main", settings, retention=10)  # the version the stack starts on

    pg = settings.section(PostgresSettings)
    warehouse_db, metadata_db = f"dataops_bench_wh_{uid}", f"dataops_bench_af_{uid}"
    secret = pg.password.get_secret_value()
    pg_url = f"postgresql://{pg.user}{':' + secret if secret else ''}@{pg.host}:{pg.port}/{warehouse_db}"
    port = _free_port()
    up = subprocess.run(
        [DATAOPS, "up", "--stack", "services", "--detach", "--dags", "published", "--port", str(port),
         "--pg-url", pg_url, "--metadata-db", metadata_db, "--redis-prefix", f"dataops-bench-{uid}:", "--workers", "1"],
        env=env, capture_output=True, text=True, timeout=900,
    )
    try:
        if up.returncode != 0:
            return {"errors_delivery": [f"dataops up failed: {(up.stderr or up.stdout).strip()[-500:]}"]}
        password = up.stdout.split("password:")[1].split()[0]
        api = AirflowApi(f"http://127.0.0.1:{port}", "admin", password)
        api.wait_for_dag(DAG_ID, timeout_s=180)

        model = repo / MODEL
        model.write_text(model.read_text() + "-- a one-line change\n")
        _git(repo, "commit", "-qam", "A one-line change")
        started = time.monotonic()
        outcome = publish(store, repo, "main", settings, retention=10)
        publish_s = time.monotonic() - started
        published_at = datetime.now(timezone.utc)
        served_s, live_s = _first_task_running_on(api, outcome.version, published_at)
        return {
            "publish_s": round(publish_s, 2),
            "publish_to_served_s": round(served_s, 2),
            "publish_to_live_s": round(live_s, 2),
        }
    finally:
        subprocess.run([DATAOPS, "down"], env=env, capture_output=True, timeout=300)
        _drop_databases(settings, warehouse_db, metadata_db)


def _first_task_running_on(api, version: str, published_at: datetime, timeout_s: float = 120) -> tuple[float, float]:
    """Seconds from ``published_at`` until Airflow serves ``version``, and until the first task of a
    run triggered then starts."""
    deadline = time.monotonic() + timeout_s
    while api.dag_bundle_version(DAG_ID) != version:
        if time.monotonic() > deadline:
            raise TimeoutError(f"Airflow did not serve version {version[:12]} within {timeout_s} s")
        time.sleep(0.1)
    served_s = (datetime.now(timezone.utc) - published_at).total_seconds()
    run_id = api.trigger(DAG_ID)
    while True:
        run = api.run(DAG_ID, run_id)
        started = [t.start_date for t in api.tasks(DAG_ID, run_id).values() if t.start_date]
        if started and run.bundle_version == version:
            return served_s, (min(started) - published_at).total_seconds()
        if time.monotonic() > deadline:
            raise TimeoutError(f"no task of run {run_id} started within {timeout_s} s")
        time.sleep(0.1)


def _analytics_repo(root: Path) -> Path:
    skip = shutil.ignore_patterns("target", "logs", "dbt_packages", "__pycache__", ".user.yml")
    for folder in ("dags", "dbt"):
        shutil.copytree(paths.analytics_dir() / folder, root / "analytics" / folder, ignore=skip)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "TICKIT")
    return root


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=Bench", "-c", "user.email=bench@localhost", *args],
                   check=True, capture_output=True)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _drop_databases(settings, *names: str) -> None:
    import psycopg

    try:
        with psycopg.connect(settings.section(PostgresSettings).conninfo("postgres"), autocommit=True) as admin:
            for name in names:
                admin.execute(f'drop database if exists "{name}" with (force)')
    except psycopg.Error as exc:
        print(f"could not drop {', '.join(names)}: {exc}", file=sys.stderr)


if __name__ == "__main__":
    figures = run()
    for key, value in figures.items():
        print(f"  {key:<24} {value}")
