"""The benchmark's workspace: dbt projects, their warehouse and a local Airflow.

Everything lives in one temporary folder: a copy of the TICKIT project with
its sample data loaded into a DuckDB file, synthetic projects, a DAGs folder
holding our DAGs and astronomer-cosmos's for the same projects, and an
embedded Airflow (dataops.local.embedded, LocalExecutor) started once and
shared by every measurement.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from dataops import paths
from dataops.local.api import AirflowApi
from dataops.local.harness import LocalAirflow, write_dbt_dag
from dataops.config import Settings, load_settings
from dataops.dbt import synthetic
from dataops.dbt.manifest import ensure_compiled
from dataops.dbt.project import DbtProject
from dataops.local.processes import free_port

TICKIT_DAG = "redshift_transformations"
# The same project without the test-gated publish (DbtDag(publish="direct")): what the guarantee costs.
TICKIT_DIRECT_DAG = "tickit_direct"


# cosmos reports each task to a usage-metrics service by default; nothing here may reach the network.
COSMOS_OFFLINE = {"AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False", "DO_NOT_TRACK": "1", "SCARF_NO_ANALYTICS": "true"}


def synthetic_dag_id(n: int) -> str:
    return f"synthetic_{n}"


def cosmos_dag_id(n: int, mode: str = "local", target: str = "duckdb") -> str:
    name = f"cosmos_{n}" if mode == "local" else f"cosmos_{mode}_{n}"
    return name if target == "duckdb" else f"{name}_{target}"


@dataclass
class Workspace:
    root: Path
    settings: Settings
    projects: dict[str, Path] = field(default_factory=dict)
    airflow: LocalAirflow | None = None
    api: AirflowApi | None = None
    # DATAOPS_PG_* of a database of the bench's own (bench/pg_database.py), for the DAGs on PostgreSQL.
    pg_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, root: Path, tickit_scale: float) -> Workspace:
        tickit = root / "tickit"
        shutil.copytree(paths.dbt_project_dir(), tickit, ignore=shutil.ignore_patterns("target", "logs"))
        settings = load_settings(
            target="duckdb", state_dir=root / "state", dbt_project_dir=tickit, scale=tickit_scale
        )
        ws = cls(root, settings, {TICKIT_DAG: tickit})
        (root / "dags").mkdir()
        shutil.copy2(paths.dags_dir() / f"{TICKIT_DAG}.py", root / "dags")
        write_dbt_dag(root / "dags", TICKIT_DIRECT_DAG, tickit, publish="direct")
        return ws

    def load_tickit(self) -> None:
        from dataops.tickit.generator import generate
        from dataops.tickit.loaders import get_loader

        generate(self.settings.data_dir, scale=self.settings.scale, seed=self.settings.seed)
        get_loader(self.settings).load(self.settings.data_dir)
        self.compile(self.projects[TICKIT_DAG])

    def add_synthetic_project_only(self, n: int) -> Path:
        """A compiled synthetic project of ``n`` models, with no DAG in Airflow."""
        project = self.root / f"synthetic_{n}"
        if not project.is_dir():
            synthetic.generate(project, n)
            self.compile(project)
        return project

    def add_synthetic(self, n: int, *, with_cosmos: bool = False, cosmos_modes: tuple[str, ...] = ("local",)) -> Path:
        project = self.add_synthetic_project_only(n)
        self.projects[synthetic_dag_id(n)] = project
        write_dbt_dag(self.root / "dags", synthetic_dag_id(n), project)
        for mode in cosmos_modes if with_cosmos else ():
            self.projects[cosmos_dag_id(n, mode)] = project
            write_cosmos_dag(self.root / "dags", cosmos_dag_id(n, mode), project, self.settings.dbt_bin, mode)
        return project

    def add_synthetic_postgres(self, n: int) -> tuple[str, str]:
        """Our DAG and cosmos's local mode for the synthetic project of ``n`` models on PostgreSQL
        (``pg_env``'s database), both building straight into their schema; their DAG ids."""
        project = self.add_synthetic_project_only(n)
        ours, cosmos = f"{synthetic_dag_id(n)}_postgres", cosmos_dag_id(n, "local", "postgres")
        # cosmos builds into its own schema with no test-gated publish: ours publishes directly too.
        write_dbt_dag(self.root / "dags", ours, project, target="postgres", publish="direct")
        write_cosmos_dag(self.root / "dags", cosmos, project, self.settings.dbt_bin, "local", target="postgres")
        self.projects[ours] = self.projects[cosmos] = project
        return ours, cosmos

    def compile(self, project: Path) -> None:
        ensure_compiled(DbtProject.from_settings(self.settings, project))

    def start_airflow(self) -> AirflowApi:
        self.airflow = LocalAirflow(
            home_dir=self.root / "airflow",
            dags_folder=self.root / "dags",
            settings=self.settings,
            api_port=free_port(),
            extra_env={**self.pg_env, **COSMOS_OFFLINE},
        )
        self.airflow.start()
        self.api = self.airflow.api()
        for dag_id in self.projects:
            self.api.wait_for_dag(dag_id, timeout_s=300)
        return self.api

    @property
    def airflow_pids(self) -> list[int]:
        """The stack's components (API server, scheduler, DAG processor, triggerer); the rest are their children."""
        assert self.airflow is not None and self.airflow.pids
        return self.airflow.pids

    def stop(self) -> None:
        if self.airflow is not None:
            self.airflow.stop()


def write_cosmos_dag(
    dags_folder: Path, dag_id: str, project: Path, dbt_bin: Path, mode: str = "local", target: str = "duckdb",
) -> Path:
    """astronomer-cosmos's DbtDag for the same project, on the profile's ``target``.

    ``local``: one dbt process per task; on DuckDB one at a time (it takes one writer), on
    PostgreSQL as many at once as Airflow's parallelism (4, as many as our dbt's threads).
    ``watcher``: cosmos's one-process mode (ExecutionMode.WATCHER): a producer task runs one
    ``dbt build``, each model's task is a sensor that follows it (deferred to the triggerer).
    """
    if mode not in ("local", "watcher"):
        raise ValueError(f"cosmos mode {mode!r}: local or watcher")
    execution_mode = "ExecutionMode.LOCAL" if mode == "local" else "ExecutionMode.WATCHER"
    # The watcher's sensors only read what its one dbt process reports; the local mode's
    # tasks each run dbt, and DuckDB lets one process write a database file at a time.
    concurrency = "max_active_tasks=1," if mode == "local" and target == "duckdb" else ""
    path = dags_folder / f"{dag_id}.py"
    path.write_text(
        # Airflow's safe mode skips files that do not mention "airflow".
        f'''"""An Airflow DAG: the project through astronomer-cosmos."""
from datetime import datetime
from pathlib import Path

from cosmos import DbtDag, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode

project = Path({str(project)!r})
dag = DbtDag(
    dag_id={dag_id!r},
    project_config=ProjectConfig(
        dbt_project_path=project,
        manifest_path=project / "target" / "manifest.json",
        # A schema of its own: our DAG's runs publish views into the models schema,
        # over which dbt refuses to build a seed's table.
        env_vars={{"DATAOPS_MODELS_SCHEMA": {dag_id.replace("-", "_")!r}}},
    ),
    profile_config=ProfileConfig(
        profile_name="synthetic", target_name={target!r}, profiles_yml_filepath=project / "profiles.yml"
    ),
    execution_config=ExecutionConfig(
        execution_mode={execution_mode},
        invocation_mode=InvocationMode.SUBPROCESS,
        dbt_executable_path={str(dbt_bin)!r},
    ),
    render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST),
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    {concurrency}
)
'''
    )
    return path
