"""Loading the TICKIT files into a warehouse.

Every loader works the same way: it reads and validates each file with the
shared reader (``dataops.tickit.files``), loads all seven tables into staging
tables, checks them, then swaps them into ``settings.tickit_schema`` in one
transaction. A rerun replaces the tables (never duplicates rows); a failed
load leaves the previous tables as they were; and readers of the schema see
either the old tables or the new ones, never a mix.

Each warehouse module (``dataops.warehouses``) names its loader here; the
loaders stay with the TICKIT sample because loading the sample is what they do.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dataops.tickit.progress import Progress, no_progress
from dataops.warehouses import registry

if TYPE_CHECKING:
    from dataops.config import Settings


class Loader(Protocol):
    """Loads the seven TICKIT files of a folder; returns rows loaded per table."""

    target: str

    def load(self, data_dir: Path, progress: Progress = no_progress) -> dict[str, int]: ...


def get_loader(settings: Settings, target: str | None = None) -> Loader:
    """The loader for ``target`` (default: ``settings.target``)."""
    return registry.get(target or settings.target).make_loader(settings)


__all__ = ["Loader", "get_loader"]
