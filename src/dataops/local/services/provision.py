"""Getting the servers ready: databases, the TICKIT sample, the dbt graph,
Airflow's schema. Each step does nothing when its work is already done."""

from __future__ import annotations


import subprocess
from collections.abc import Callable

from dataops.config import Settings
from dataops.errors import DataOpsError
from dataops.local.airflow_env import airflow_argv, write_local_settings
from dataops.local.services.config import PostgresServer, ServicesConfig
from dataops.warehouses.postgres import PostgresSettings

Announce = Callable[[str], None]


def warehouse_settings(config: ServicesConfig, settings: Settings) -> Settings:
    """``settings`` aimed at the stack's PostgreSQL warehouse."""
    return settings.with_section(config.warehouse(), target="postgres")


def ensure_database(pg: PostgresServer, name: str) -> bool:
    """Creates database ``name`` if missing; True when it was created."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(pg.conninfo("postgres"), autocommit=True, connect_timeout=10) as admin:
        if admin.execute("select 1 from pg_database where datname = %s", [name]).fetchone():
            return False
        try:
            admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            return False  # created by someone else meanwhile
    return True


def tickit_loaded(settings: Settings) -> bool:
    import psycopg

    from dataops.tickit.schema import TABLES

    with psycopg.connect(settings.section(PostgresSettings).conninfo(), connect_timeout=10) as conn:
        found = conn.execute(
            "select count(*) from information_schema.tables where table_schema = %s and table_name = any(%s)",
            [settings.tickit_schema, [t.name for t in TABLES]],
        ).fetchone()[0]
    return found == len(TABLES)


def load_tickit(settings: Settings) -> dict[str, int]:
    from dataops.tickit.generator import ensure_data
    from dataops.tickit.loaders import get_loader

    ensure_data(settings.data_dir, scale=settings.scale, seed=settings.seed)
    return get_loader(settings, "postgres").load(settings.data_dir)


def compile_dbt_project(settings: Settings) -> None:
    """Parses the dbt project once, so DAG files read its graph, never dbt; dbt's documentation
    site (dataops.dbt.docs, the plugin's "dbt docs") is built beside it."""
    from dataops.dbt import DbtProject
    from dataops.dbt.manifest import compile_project

    compile_project(DbtProject.from_settings(settings), docs=True)


def migrate_airflow(config: ServicesConfig, env: dict[str, str]) -> None:
    config.airflow_home.mkdir(parents=True, exist_ok=True)
    write_local_settings(config.airflow_home)
    log_file = config.log_file("migrate")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        result = subprocess.run(
            airflow_argv("db", "migrate"), env=env, cwd=config.airflow_home, stdout=log, stderr=subprocess.STDOUT
        )
    if result.returncode != 0:
        tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-15:])
        raise DataOpsError(
            f"`airflow db migrate` failed on database {config.metadata_db!r} at {config.pg.address} "
            f"(exit code {result.returncode}); see {log_file}:\n{tail}"
        )


def provision(config: ServicesConfig, settings: Settings, env: dict[str, str], announce: Announce) -> None:
    """Everything the components need before they start."""
    warehouse = warehouse_settings(config, settings)
    if ensure_database(config.pg, config.metadata_db):
        announce(f"created Airflow's metadata database {config.metadata_db!r}")
    if ensure_database(config.pg, config.warehouse_db):
        announce(f"created the warehouse database {config.warehouse_db!r}")
    if not tickit_loaded(warehouse):
        announce(f"loading TICKIT (scale {warehouse.scale:g}) into {config.warehouse_db}.{warehouse.tickit_schema}")
        load_tickit(warehouse)
    announce("compiling the dbt project and its docs site")
    compile_dbt_project(warehouse)
    announce(f"migrating Airflow's metadata database {config.metadata_db!r}")
    migrate_airflow(config, env)
