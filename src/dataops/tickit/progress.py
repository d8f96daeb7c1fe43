"""How long-running TICKIT work reports progress (the CLI draws it as bars)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, task: str, completed: int, total: int) -> None:
        """``completed`` of ``total`` units of ``task`` (a table name) are done."""


def no_progress(task: str, completed: int, total: int) -> None:
    """The default: report nothing."""
