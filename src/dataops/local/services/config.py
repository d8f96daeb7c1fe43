"""What the services stack runs against and where it keeps its state.

One ``ServicesConfig`` describes a stack: the PostgreSQL server (Airflow's
metadata database and the warehouse), the Redis broker and its key prefix,
the API port, the workers and the DAG folders. It is written to the stack's
folder so a detached supervisor (and ``dataops down``) read the same thing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from dataops.errors import ConfigError
from dataops.local.airflow_env import DagSource
from dataops.warehouses.postgres import PostgresSettings

DEFAULT_METADATA_DB = "dataops_airflow"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_REDIS_PREFIX = "dataops:"
# The variables `dataops up --stack services` reads its options from (option -> variable).
OPTION_VARIABLES = {
    "--pg-url": "DATAOPS_SERVICES_PG_URL",
    "--redis-url": "DATAOPS_SERVICES_REDIS_URL",
    "--redis-prefix": "DATAOPS_SERVICES_REDIS_PREFIX",
    "--metadata-db": "DATAOPS_SERVICES_METADATA_DB",
    "--broker-outage": "DATAOPS_SERVICES_BROKER_OUTAGE_S",
}
DEFAULT_BROKER_OUTAGE_S = 300
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# How messages name each setting: the option of `dataops up` that sets it.
_OPTIONS = {
    "pg": "--pg-url",
    "pg_url": "--pg-url",
    "warehouse_db": "the warehouse database",
    "metadata_db": "--metadata-db",
    "redis": "--redis-url",
    "redis_url": "--redis-url",
    "redis_prefix": "--redis-prefix",
    "api_port": "--port",
    "workers": "--workers",
    "worker_concurrency": "--concurrency",
    "dags_folders": "--dags-folder",
    "bundle_store": "--dags published (DATAOPS_BUNDLE_STORE)",
    "broker_outage_s": "--broker-outage",
}


class PostgresServer(BaseModel):
    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(5432, ge=1, le=65535)
    user: str = "postgres"
    password: str = ""

    @classmethod
    def from_url(cls, url: str) -> tuple[PostgresServer, str | None]:
        """The server in ``postgresql://user:password@host:port/database`` and the database, if named."""
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError("not a postgresql:// URL; e.g. postgresql://postgres@127.0.0.1:5432")
        try:
            port = parts.port or 5432
        except ValueError:
            raise ValueError("the port is not a number from 1 to 65535") from None
        server = cls(
            host=parts.hostname or "127.0.0.1",
            port=port,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
        )
        database = parts.path.lstrip("/") or None
        return server, database

    @classmethod
    def of(cls, warehouse: PostgresSettings) -> PostgresServer:
        """The server of a PostgreSQL warehouse's settings (``DATAOPS_PG_*``)."""
        return cls(host=warehouse.host, port=warehouse.port, user=warehouse.user,
                   password=warehouse.password.get_secret_value())

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def conninfo(self, database: str) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(
            host=self.host, port=self.port, user=self.user, password=self.password or None, dbname=database
        )

    def sqlalchemy_url(self, database: str) -> str:
        """A URL for SQLAlchemy with the psycopg 3 driver (Airflow's metadata database)."""
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        return f"postgresql+psycopg://{auth}@{self.host}:{self.port}/{database}"


class RedisServer(BaseModel):
    model_config = ConfigDict(frozen=True)

    url: str = DEFAULT_REDIS_URL

    @field_validator("url")
    @classmethod
    def _redis_scheme(cls, url: str) -> str:
        if urlsplit(url).scheme not in ("redis", "rediss"):
            raise ValueError(f"not a redis:// URL; e.g. {DEFAULT_REDIS_URL}")
        return url

    @property
    def address(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.hostname or '127.0.0.1'}:{parts.port or 6379}"


class ServicesConfig(BaseSettings):
    """One services stack. ``folder`` holds its state, logs and Airflow home.

    Read like the other settings: what is not given comes from the
    ``DATAOPS_SERVICES_*`` variables (``_PG_URL``, ``_REDIS_URL``,
    ``_REDIS_PREFIX``, ``_METADATA_DB``...), which ``dataops up`` reads too.
    ``pg`` and ``redis`` also take a URL; a database named in the PostgreSQL
    URL is the warehouse's. A bad value is a ``ConfigError`` naming the option.
    """

    model_config = SettingsConfigDict(
        env_prefix="DATAOPS_SERVICES_", env_prefix_target="all", env_file=".env", extra="ignore",
        frozen=True, validate_by_name=True,
    )

    folder: Path
    # NoDecode: their variables hold URLs, not JSON.
    pg: Annotated[PostgresServer, NoDecode] = Field(default_factory=PostgresServer, validation_alias="pg_url")
    warehouse_db: str = "dataops"
    metadata_db: str = DEFAULT_METADATA_DB
    redis: Annotated[RedisServer, NoDecode] = Field(default_factory=RedisServer, validation_alias="redis_url")
    redis_prefix: str = DEFAULT_REDIS_PREFIX
    api_port: int = Field(8080, ge=1, le=65535)
    workers: int = Field(2, ge=1, le=16)
    worker_concurrency: int = Field(2, ge=1, le=32)
    dags_folders: tuple[Path, ...] = ()
    # The bundle store whose current version the stack serves (`dataops up --dags published`);
    # empty: the DAG folders as they are on disk.
    bundle_store: str = ""
    # A marker in every component's environment: `down` stops only processes carrying it.
    stack_id: str = ""
    # Whether DAG schedules start runs (off: only triggered runs start).
    scheduled_runs: bool = False
    # How long the scheduler keeps a task it cannot send to the broker queued before
    # failing it (dataops.airflow.celery_executor); each retry of the task waits as long again.
    broker_outage_s: int = Field(DEFAULT_BROKER_OUTAGE_S, ge=1, le=86_400)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(_describe(exc)) from None

    @model_validator(mode="before")
    @classmethod
    def _warehouse_db_from_pg_url(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        url = next((data[key] for key in ("pg", "pg_url") if isinstance(data.get(key), str)), None)
        database = urlsplit(url).path.lstrip("/") if url else ""
        return {**data, "warehouse_db": database} if database else data

    @field_validator("pg", mode="before")
    @classmethod
    def _pg_from_url(cls, value: Any) -> Any:
        return PostgresServer.from_url(value)[0] if isinstance(value, str) else value

    @field_validator("redis", mode="before")
    @classmethod
    def _redis_from_url(cls, value: Any) -> Any:
        return {"url": value} if isinstance(value, str) else value

    @field_validator("metadata_db", "warehouse_db")
    @classmethod
    def _identifier(cls, name: str) -> str:
        if not _IDENTIFIER.match(name):
            raise ValueError("must be a plain identifier (letters, digits, underscores)")
        return name

    @model_validator(mode="after")
    def _distinct_databases(self) -> ServicesConfig:
        if self.metadata_db == self.warehouse_db:
            raise ValueError(
                f"Airflow's metadata database and the warehouse are both {self.metadata_db!r}; "
                "choose another name with --metadata-db"
            )
        return self

    def dag_source(self) -> DagSource:
        return DagSource(self.dags_folders, self.bundle_store or None)

    # Where things are.
    @property
    def airflow_home(self) -> Path:
        return self.folder / "airflow"

    @property
    def logs_dir(self) -> Path:
        return self.folder / "logs"

    @property
    def state_file(self) -> Path:
        return self.folder / "state.json"

    @property
    def config_file(self) -> Path:
        return self.folder / "config.json"

    @property
    def secrets_file(self) -> Path:
        return self.folder / "secrets.json"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def health_url(self) -> str:
        return f"{self.url}/api/v2/monitor/health"

    def log_file(self, component: str) -> Path:
        return self.logs_dir / f"{component}.log"

    def warehouse(self) -> PostgresSettings:
        """The stack's warehouse as the platform's PostgreSQL settings."""
        pg = self.pg
        return PostgresSettings(host=pg.host, port=pg.port, user=pg.user, password=pg.password,
                                database=self.warehouse_db)

    def with_stack_id(self, stack_id: str) -> ServicesConfig:
        return self.model_copy(update={"stack_id": stack_id})

    # Persistence: the detached supervisor and `down` read what `up` wrote.
    def save(self) -> None:
        write_private(self.config_file, self.model_dump_json(indent=2))

    @classmethod
    def load(cls, folder: Path) -> ServicesConfig:
        """The stack ``up`` saved in ``folder`` (every field is saved, so the environment changes nothing)."""
        path = folder / "config.json"
        try:
            return cls.model_validate_json(path.read_text())
        except ConfigError as exc:  # raised by __init__, which validation calls
            raise ConfigError(f"{path} is not a stack's configuration: {exc}") from None


def write_private(path: Path, text: str) -> None:
    """Writes ``text`` readable by the owner only, replacing ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(partial, path)


def _redacted(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def _describe(exc: ValidationError) -> str:
    """The errors as one line, each naming the option at fault and the value given."""
    problems = []
    for error in exc.errors():
        cause = error.get("ctx", {}).get("error")
        problem = str(cause) if isinstance(cause, ValueError) else error["msg"][:1].lower() + error["msg"][1:]
        if error["loc"]:
            option = _OPTIONS.get(str(error["loc"][0]), str(error["loc"][0]))
            given = error.get("input")
            shown = f" {_redacted(given)!r}" if isinstance(given, str) else f" {given}" if isinstance(given, int) else ""
            problem = f"{option}{shown}: {problem}"
        problems.append(problem)
    return "; ".join(problems)
