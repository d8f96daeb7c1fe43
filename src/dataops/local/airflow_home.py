"""Airflow's home on this machine and the environment its processes run with.

The embedded default is SQLite with the LocalExecutor; everything Airflow
writes (its database, logs, the admin password) stays under
``.dataops/airflow``.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dataops.config import Settings
from dataops.errors import DataOpsError
from dataops.local.airflow_env import ADMIN_USER, DagSource, airflow_argv, airflow_env
from dataops.local.dag_states import airflow_settings
from dataops.local.sqlite_metadata import AIRFLOW_ENV as SQLITE_ENV
from dataops.local.sqlite_metadata import use_write_ahead_log

__all__ = ["ADMIN_USER", "AirflowHome"]


@dataclass(frozen=True)
class AirflowHome:
    path: Path
    settings: Settings
    # On two cores a couple of worker processes is plenty; more just compete.
    parallelism: int = 4
    api_port: int = 8080
    # False: the scheduler creates no runs from DAG schedules, only triggered
    # ones run (what a new user expects of a local stack; the demo, the tests
    # and the benchmark trigger every run they measure). DAGs appear unpaused
    # either way (dataops.local.dag_states).
    scheduled_runs: bool = False
    # The working tree's analytics/dags unless told otherwise.
    dags: DagSource = DagSource()

    @classmethod
    def for_settings(cls, settings: Settings, **kwargs) -> AirflowHome:
        return cls(path=settings.state_dir / "airflow", settings=settings, **kwargs)

    @property
    def database(self) -> Path:
        return self.path / "airflow.db"

    @property
    def passwords_file(self) -> Path:
        return self.path / "passwords.json"

    def env(self) -> dict[str, str]:
        """The environment of every Airflow process of the local platform."""
        return airflow_env(
            os.environ,
            home=self.path,
            dags=self.dags,
            api_port=self.api_port,
            passwords_file=self.passwords_file,
            state_dir=self.settings.state_dir,
            dbt_env=self.settings.dbt_env(),
            controlled={
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.database}",
                **SQLITE_ENV,
                # The stack's health is the API server's /api/v2/monitor/health. The scheduler's own
                # health server would be a forked copy of the scheduler (about 75 MB) on a fixed port
                # (8974) that every local stack on the machine would try to take.
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                **airflow_settings(self.scheduled_runs),
                # The scheduler notices a finished run within a quarter second rather than a second.
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.25",
            },
        )

    def admin_password(self) -> str:
        """The admin's password, generated once and kept in Airflow's home."""
        self.path.mkdir(parents=True, exist_ok=True)
        if self.passwords_file.is_file():
            passwords = json.loads(self.passwords_file.read_text() or "{}")
            if ADMIN_USER in passwords:
                return passwords[ADMIN_USER]
        password = secrets.token_urlsafe(16)
        fd = os.open(self.passwords_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({ADMIN_USER: password}, f)
        return password

    def airflow(self, *args: str, check: bool = True, capture: bool = False) -> subprocess.CompletedProcess:
        """Run the ``airflow`` command with this home's environment."""
        self.path.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            airflow_argv(*args),
            env=self.env(),
            cwd=self.path,
            text=True,
            capture_output=capture,
        )
        if check and result.returncode != 0:
            detail = (result.stderr or result.stdout or "").strip().splitlines()[-20:] if capture else []
            raise DataOpsError(
                f"`airflow {' '.join(args)}` failed (exit code {result.returncode}); "
                f"Airflow's home is {self.path}.\n" + "\n".join(detail)
            )
        return result

    def migrate(self) -> None:
        """Create or upgrade Airflow's metadata database.

        A marker records the Airflow version that last migrated this home, so
        later runs skip a whole ``airflow`` process start when nothing changed.
        """
        from importlib.metadata import version

        marker = self.path / ".migrated"
        current = version("apache-airflow")
        if not (marker.is_file() and marker.read_text() == current and self.database.is_file()):
            self.airflow("db", "migrate", capture=True)
            marker.write_text(current)
        use_write_ahead_log(self.database)
