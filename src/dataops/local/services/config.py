"""What the services stack runs against and where it keeps its state.

One ``ServicesConfig`` describes a stack: the PostgreSQL server (Airflow's
metadata database and the warehouse), the Redis broker and its key prefix,
the API port, the workers and the DAG folders. It is written to the stack's
folder so a detached supervisor (and ``dataops down``) read the same thing.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from dataops.errors import ConfigError

DEFAULT_METADATA_DB = "dataops_airflow"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_REDIS_PREFIX = "dataops:"
# The variables `dataops up --stack services` reads its options from (option -> variable).
OPTION_VARIABLES = {
    "--pg-url": "DATAOPS_SERVICES_PG_URL",
    "--redis-url": "DATAOPS_SERVICES_REDIS_URL",
    "--redis-prefix": "DATAOPS_SERVICES_REDIS_PREFIX",
    "--metadata-db": "DATAOPS_SERVICES_METADATA_DB",
}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


@dataclass(frozen=True)
class PostgresServer:
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str = ""

    @classmethod
    def from_url(cls, url: str) -> tuple[PostgresServer, str | None]:
        """The server in ``postgresql://user:password@host:port/database`` and the database, if named."""
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ConfigError(f"--pg-url {_redacted(url)!r} is not a postgresql:// URL; e.g. postgresql://postgres@127.0.0.1:5432")
        try:
            port = parts.port or 5432
        except ValueError:
            raise ConfigError(f"--pg-url {_redacted(url)!r} has an invalid port") from None
        server = cls(
            host=parts.hostname or "127.0.0.1",
            port=port,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
        )
        database = parts.path.lstrip("/") or None
        return server, database

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


@dataclass(frozen=True)
class RedisServer:
    url: str = DEFAULT_REDIS_URL

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("redis", "rediss"):
            raise ConfigError(f"--redis-url {_redacted(self.url)!r} is not a redis:// URL; e.g. {DEFAULT_REDIS_URL}")

    @property
    def address(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.hostname or '127.0.0.1'}:{parts.port or 6379}"


@dataclass(frozen=True)
class ServicesConfig:
    """One services stack. ``folder`` holds its state, logs and Airflow home."""

    folder: Path
    pg: PostgresServer = field(default_factory=PostgresServer)
    warehouse_db: str = "dataops"
    metadata_db: str = DEFAULT_METADATA_DB
    redis: RedisServer = field(default_factory=RedisServer)
    redis_prefix: str = DEFAULT_REDIS_PREFIX
    api_port: int = 8080
    workers: int = 2
    worker_concurrency: int = 2
    dags_folders: tuple[Path, ...] = ()
    # A marker in every component's environment: `down` stops only processes carrying it.
    stack_id: str = ""
    # Whether DAG schedules start runs (off: only triggered runs start).
    scheduled_runs: bool = False

    def __post_init__(self) -> None:
        for option, name in (("--metadata-db", self.metadata_db), ("the warehouse database", self.warehouse_db)):
            if not _IDENTIFIER.match(name):
                raise ConfigError(f"{option} {name!r} must be a plain identifier (letters, digits, underscores)")
        if self.metadata_db == self.warehouse_db:
            raise ConfigError(
                f"Airflow's metadata database and the warehouse are both {self.metadata_db!r}; "
                "choose another name with --metadata-db"
            )
        if not 1 <= self.workers <= 16:
            raise ConfigError(f"--workers {self.workers}: choose between 1 and 16")
        if not 1 <= self.api_port <= 65535:
            raise ConfigError(f"--port {self.api_port} is not a TCP port")

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

    def with_stack_id(self, stack_id: str) -> ServicesConfig:
        return replace(self, stack_id=stack_id)

    # Persistence: the detached supervisor and `down` read what `up` wrote.
    def save(self) -> None:
        data = asdict(self)
        data["folder"] = str(self.folder)
        data["dags_folders"] = [str(p) for p in self.dags_folders]
        write_private(self.config_file, json.dumps(data, indent=2))

    @classmethod
    def load(cls, folder: Path) -> ServicesConfig:
        data = json.loads((folder / "config.json").read_text())
        data["folder"] = Path(data["folder"])
        data["pg"] = PostgresServer(**data["pg"])
        data["redis"] = RedisServer(**data["redis"])
        data["dags_folders"] = tuple(Path(p) for p in data["dags_folders"])
        return cls(**data)


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
