"""What a warehouse declares, and the helpers its module uses to declare it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from pydantic import SecretStr

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings

    from dataops.config import Settings
    from dataops.tickit.loaders import Loader
    from dataops.wap.sql import PublishDialect

# A query's column names and rows.
Rows = tuple[list[str], list[tuple]]


@dataclass(frozen=True)
class SqlDialect:
    """How the warehouse spells the TICKIT tables' DDL (``dataops.tickit.schema``)."""

    # False: names are written bare, as the Redshift guide spells them.
    quote_identifiers: bool = True
    # False: char(n) and varchar(n) become an unbounded varchar (the reader checks lengths).
    string_lengths: bool = True
    # False: a boolean default must be true/false, not the guide's 'N'.
    text_booleans: bool = True
    # True: columns carry the guide's distkey and sortkey.
    distribution_keys: bool = False


@dataclass(frozen=True)
class Warehouse:
    # The DATAOPS_TARGET value, and the output of that name in dbt's profiles.yml.
    name: str
    # How messages name it, e.g. "PostgreSQL".
    title: str
    dialect: SqlDialect
    # The DATAOPS_* variables its profiles.yml output reads, from the settings.
    dbt_env: Callable[[Settings], dict[str, str]]
    # "module:Class" of its TICKIT loader, imported on first use (it imports the driver).
    loader: str
    # Runs a read-only query, for reports such as the demo's result tables.
    query: Callable[[Settings, str], Rows]
    # Where its data is, in its own words (a file, a host and database), for messages.
    location: Callable[[Settings], str] | None = None
    # Runs one statement that changes the warehouse (``drop schema``...), committed.
    execute: Callable[[Settings, str], None] | None = None
    # The DATAOPS_MATERIALIZATION values its dbt adapter supports.
    materializations: frozenset[str] = frozenset({"table", "view"})
    # "module:NAME" of its write-audit-publish SQL (a dataops.wap.sql.PublishDialect); None: no test-gated publish.
    publish_dialect: str | None = None

    def where(self, settings: Settings) -> str:
        """Where the models are, e.g. "PostgreSQL database wh at db:5432, schema analytics"."""
        place = self.location(settings) if self.location else self.title
        return f"{place}, schema {settings.models_schema}"

    def publish_sql(self) -> PublishDialect:
        if self.publish_dialect is None:
            from dataops.errors import ConfigError

            raise ConfigError(
                f"{self.title} has no test-gated publish: build with DbtDag(publish=\"direct\") "
                "(models straight into production, tested afterwards)."
            )
        module, _, name = self.publish_dialect.partition(":")
        return getattr(import_module(module), name)

    def make_loader(self, settings: Settings) -> Loader:
        module, _, name = self.loader.partition(":")
        return getattr(import_module(module), name)(settings)


def section_env(section: BaseSettings, *fields: str) -> dict[str, str]:
    """``fields`` of a settings section as the variables they are read from, e.g. DATAOPS_PG_HOST."""
    prefix = section.model_config.get("env_prefix", "")
    env = {}
    for field in fields:
        value = getattr(section, field)
        env[f"{prefix}{field}".upper()] = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    return env
