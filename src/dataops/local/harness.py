"""A local Airflow to run dbt DAGs against, for the benchmark and the tests.

The embedded stack (Airflow's components, SQLite, LocalExecutor) of
``dataops.local``, pointed at a DAGs folder and a dbt project of the
caller's choosing, in a home of its own so that it never meets the user's
``.dataops/airflow``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dataops.local.api import AirflowApi
from dataops.local.airflow_env import DagSource
from dataops.local.airflow_home import ADMIN_USER, AirflowHome
from dataops.local.embedded import EmbeddedStack


@dataclass(frozen=True)
class _Home(AirflowHome):
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {**super().env(), **self.extra_env}


@dataclass
class LocalAirflow:
    home_dir: Path
    dags_folder: Path
    settings: object
    api_port: int = 8794
    extra_env: dict[str, str] = field(default_factory=dict)
    # A bundle store whose current version is served besides dags_folder (``dataops publish``).
    published_store: str | None = None
    _stack: EmbeddedStack | None = None

    def home(self) -> _Home:
        env = {
            # New DAG files show up within seconds rather than the default minutes; a
            # known file is parsed again when it changes (its modification time) and
            # otherwise every two minutes: each parse costs the DAG processor a
            # process, and the stacks here live a few minutes on a busy machine.
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "120",
            "DATAOPS_DBT_PROJECT_DIR": str(self.settings.dbt_project_dir),
            # The stack's own warehouse: target, DuckDB file or PostgreSQL
            # database, schemas; whatever the caller's environment says.
            **self.settings.dbt_env(),
            **self.extra_env,
        }
        return _Home(
            path=self.home_dir,
            settings=self.settings,
            api_port=self.api_port,
            scheduled_runs=False,
            dags=DagSource((Path(self.dags_folder),), self.published_store),
            extra_env=env,
        )

    def start(self, timeout_s: float = 240) -> None:
        self._stack = EmbeddedStack(self.home())
        self._stack.start(timeout_s)

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.stop()
            self._stack = None

    def log_file(self, component: str) -> Path:
        """The log of one of the stack's components: api-server, scheduler, dag-processor or triggerer."""
        return self.home_dir / "logs" / f"{component}.log"

    @property
    def pids(self) -> list[int]:
        """The components' processes (each one's own processes are its children)."""
        return self._stack.pids if self._stack is not None else []

    def admin(self) -> tuple[str, str]:
        return ADMIN_USER, self.home().admin_password()

    def api(self) -> AirflowApi:
        return AirflowApi(f"http://127.0.0.1:{self.api_port}", *self.admin())


def write_dbt_dag(dags_folder: Path, dag_id: str, project_dir: Path, **dag_args: object) -> Path:
    """A DAG file with one DbtDag for ``project_dir`` (unscheduled unless told)."""
    args = {"schedule": None, "max_active_runs": 1, **dag_args}
    extra = "".join(f", {k}={v!r}" for k, v in sorted(args.items()))
    path = Path(dags_folder) / f"{dag_id}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "from datetime import datetime\n"
        "from dataops.airflow.factory import DbtDag\n\n"
        f"dag = DbtDag(dag_id={dag_id!r}, project_dir={str(project_dir)!r}, "
        f"start_date=datetime(2024, 1, 1), catchup=False{extra})\n"
    )
    return path
