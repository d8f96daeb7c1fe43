"""The ``dataops`` command."""

from dataops.cli.main import main

__all__ = ["main"]
