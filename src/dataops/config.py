"""The platform's settings, read from the environment and ``.env``.

Every setting is an environment variable prefixed ``DATAOPS_`` (for example
``DATAOPS_TARGET=postgres``). The same variables feed dbt's ``profiles.yml``
(through ``env_var()``), the TICKIT loaders and the Airflow tasks, so one
``.env`` configures the whole platform. Bad values fail early with the name of
the variable and what to do, not a traceback.

A warehouse's own settings (``DATAOPS_PG_*``...) are declared by its module in
``dataops.warehouses``; ``settings.section(PostgresSettings)`` reads them.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cached_property
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, PrivateAttr, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from dataops import paths
from dataops.errors import ConfigError
from dataops.warehouses import registry
from dataops.warehouses.base import Warehouse

Executor = Literal["local", "ecs"]
# How the dbt project's models materialize (its dbt_project.yml reads DATAOPS_MATERIALIZATION).
Materialization = Literal["table", "view", "materialized_view"]
Section = TypeVar("Section", bound=BaseSettings)


class EcsSettings(BaseSettings):
    """Where the ``ecs`` dbt executor starts its Fargate task (``ecs:RunTask``).

    The CDK app sets these on every Airflow container (infra/dataops_infra/contract.py).
    """

    model_config = SettingsConfigDict(env_prefix="DATAOPS_ECS_", env_file=".env", extra="ignore")

    cluster: str = ""
    # A family (its latest ACTIVE revision runs), family:revision or an ARN.
    task_definition: str = ""
    container_name: str = "dbt"
    # Comma-separated ids.
    subnets: str = ""
    security_groups: str = ""
    assign_public_ip: bool = False
    # FARGATE, or a capacity provider such as FARGATE_SPOT.
    capacity_provider: str = "FARGATE"
    log_group: str = ""
    # The awslogs stream prefix: streams are <prefix>/<container name>/<task id>.
    log_stream_prefix: str = "dbt"
    # The Airflow connection the amazon provider's hooks use (a missing one means
    # boto3's own chain: the worker's task role on ECS, AWS_* variables elsewhere).
    aws_conn_id: str = "aws_default"
    region: str | None = None
    poll_interval_s: float = Field(2.0, gt=0, le=60)
    # After the task stops, how long to wait for CloudWatch to deliver dbt's last lines.
    log_drain_timeout_s: float = Field(30.0, ge=0, le=600)

    @property
    def subnet_ids(self) -> list[str]:
        return _split(self.subnets)

    @property
    def security_group_ids(self) -> list[str]:
        return _split(self.security_groups)

    def missing(self) -> list[str]:
        """The variables the ``ecs`` executor needs that are not set."""
        required = {
            "DATAOPS_ECS_CLUSTER": self.cluster,
            "DATAOPS_ECS_TASK_DEFINITION": self.task_definition,
            "DATAOPS_ECS_SUBNETS": self.subnet_ids,
            "DATAOPS_ECS_LOG_GROUP": self.log_group,
        }
        return [name for name, value in required.items() if not value]


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class Settings(BaseSettings):
    """Top-level settings. ``load_settings()`` is the way to get one."""

    model_config = SettingsConfigDict(env_prefix="DATAOPS_", env_file=".env", extra="ignore")

    # Which dbt target (and warehouse) the platform runs against: a registered warehouse.
    target: str = "duckdb"
    # Where dbt runs: a subprocess on the Airflow worker, or an ECS Fargate task.
    dbt_executor: Executor = "local"
    # The dbt project, its environment and threads.
    dbt_project_dir: Path = Field(default_factory=paths.dbt_project_dir)
    dbt_bin: Path = Field(default_factory=lambda: paths.repo_root() / ".venv-dbt" / "bin" / "dbt")
    dbt_threads: int = Field(4, ge=1, le=64)
    # How many times dbt_build builds again, in the same try, the nodes that failed only because the
    # warehouse connection dropped (and what dbt skipped after them): see dataops.dbt.transient.
    dbt_transient_retries: int = Field(1, ge=0, le=5)
    # The dbt profile to use instead of the project's own (or the platform's): see dataops.dbt.profile.
    dbt_profiles_dir: str | None = None
    dbt_profile: str | None = None
    dbt_target: str | None = None
    # Local state: sample data, the DuckDB warehouse, Airflow's home.
    state_dir: Path = Field(default_factory=paths.state_dir)
    duckdb_path: Path | None = None
    # The schema holding the TICKIT tables (dbt reads them as sources).
    tickit_schema: str = "tickit"
    # The schema the dbt models build into.
    models_schema: str = "analytics"
    # How the models materialize: materialized_view only where the warehouse has them.
    materialization: Materialization = "table"
    scale: float = Field(1.0, gt=0, le=1000)
    seed: int = 42
    # Test-gated publish: how many published versions of each pipeline stay restorable (dataops.wap).
    publish_keep: int = Field(3, ge=1, le=100)
    # Where dbt runs on ECS keep their artifacts (s3://<bucket>/dbt/...).
    artifacts_bucket: str = ""

    # Sections with a prefix of their own (a warehouse's DATAOPS_PG_*...), read on first use.
    _sections: dict[type[BaseSettings], BaseSettings] = PrivateAttr(default_factory=dict)

    @field_validator("target")
    @classmethod
    def _registered(cls, value: str) -> str:
        if value not in registry.names():
            raise PydanticCustomError(
                "literal_error", "Input should be {expected}", {"expected": registry.listed(quoted=True)}
            )
        return value

    @field_validator("tickit_schema", "models_schema")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not value.replace("_", "").isalnum() or value[0].isdigit():
            raise ValueError("must be a plain SQL identifier (letters, digits, underscores)")
        return value.lower()

    @property
    def data_dir(self) -> Path:
        """Where the TICKIT text files for this scale factor are written."""
        return self.state_dir / "data" / f"tickit-sf{self.scale:g}"

    @property
    def warehouse_path(self) -> Path:
        return self.duckdb_path or self.state_dir / "warehouse.duckdb"

    @cached_property
    def ecs(self) -> EcsSettings:
        return build_section(EcsSettings)

    def section(self, kind: type[Section]) -> Section:
        """The settings section ``kind`` (e.g. ``PostgresSettings``), read from the environment once."""
        if kind not in self._sections:
            # A new dict rather than an update: copies of these settings share the old one.
            self._sections = {**self._sections, kind: build_section(kind)}
        return self._sections[kind]

    def with_section(self, section: BaseSettings, **updates: object) -> Settings:
        """A copy with ``updates`` applied and ``section`` used instead of the environment's."""
        copy = self.model_copy(update=updates)
        copy._sections = {**self._sections, type(section): section}
        return copy

    def warehouse(self) -> Warehouse:
        """The target's warehouse."""
        return registry.get(self.target)

    def dbt_env(self) -> dict[str, str]:
        """The environment dbt's profiles.yml and dbt_project.yml read (``env_var(...)``).

        Every name is given, so a setting in ``.env`` reaches dbt as one in the
        process environment does.
        """
        warehouse = self.warehouse()
        if self.materialization not in warehouse.materializations:
            raise ConfigError(
                f"DATAOPS_MATERIALIZATION={self.materialization} is not available on {warehouse.title}: "
                f"use {' or '.join(sorted(warehouse.materializations))}."
            )
        return {
            "DATAOPS_TARGET": self.target,
            "DATAOPS_MATERIALIZATION": self.materialization,
            "DATAOPS_TICKIT_SCHEMA": self.tickit_schema,
            "DATAOPS_MODELS_SCHEMA": self.models_schema,
            "DATAOPS_DBT_THREADS": str(self.dbt_threads),
            **warehouse.dbt_env(self),
        }


def build_section(cls: type[BaseSettings]) -> BaseSettings:
    """A settings class read from the environment and .env; a bad value is a ConfigError naming it."""
    try:
        return cls()
    except ValidationError as exc:
        raise ConfigError(_describe(exc, cls.model_config.get("env_prefix", ""))) from None


def _describe(exc: ValidationError, prefix: str, given: Collection[str] = ()) -> str:
    """One line per bad setting: its name and value, where it was set, and what it accepts."""
    from dataops.settings_names import accepted_values, where_set

    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        name = field if field.startswith("DATAOPS_") else f"{prefix}{field.rstrip('_')}".upper()
        value = error.get("input")
        shown = "" if isinstance(value, dict) or "password" in name.lower() else f"={value!r}"
        source = "given to the command" if field in given else where_set(name)
        where = f" ({source})" if field in given else f" (set in {source})" if source else ""
        lines.append(f"Invalid setting {name}{shown}{where}: {accepted_values(prefix, field, error)}.")
    return "\n".join(lines)


def load_settings(**overrides) -> Settings:
    """Settings from the environment and ``.env``, with ``overrides`` on top.

    A line of ``.env`` that is not NAME=value stops here, naming the line. (The
    ``dataops`` command also refuses unknown ``DATAOPS_*`` names before it runs:
    see dataops.cli.environment.)
    """
    from dataops.settings_names import check_env_file

    check_env_file()
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, "DATAOPS_", given=overrides)) from None
