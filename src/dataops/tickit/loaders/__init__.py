"""Loading the TICKIT files into a warehouse.

Every loader works the same way: it reads and validates each file with the
shared reader (``dataops.tickit.files``), loads all seven tables into staging
tables, checks them, then swaps them into ``settings.tickit_schema`` in one
transaction. A rerun replaces the tables (never duplicates rows); a failed
load leaves the previous tables as they were; and readers of the schema see
either the old tables or the new ones, never a mix.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dataops.errors import ConfigError
from dataops.tickit.progress import Progress, no_progress

if TYPE_CHECKING:
    from dataops.config import Settings, Target


class Loader(Protocol):
    """Loads the seven TICKIT files of a folder; returns rows loaded per table."""

    target: str

    def load(self, data_dir: Path, progress: Progress = no_progress) -> dict[str, int]: ...


def get_loader(settings: Settings, target: Target | None = None) -> Loader:
    """The loader for ``target`` (default: ``settings.target``)."""
    target = target or settings.target
    if target == "duckdb":
        from dataops.tickit.loaders.duckdb import DuckDBLoader

        return DuckDBLoader(settings)
    if target == "postgres":
        from dataops.tickit.loaders.postgres import PostgresLoader

        return PostgresLoader(settings)
    if target == "redshift":
        from dataops.tickit.loaders.redshift import RedshiftLoader

        return RedshiftLoader(settings)
    raise ConfigError(f"unknown target {target!r}: use duckdb, postgres or redshift (DATAOPS_TARGET)")


__all__ = ["Loader", "get_loader"]
