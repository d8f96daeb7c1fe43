"""The ``dataops`` command group; each subcommand lives in its own module."""

from __future__ import annotations

import sys

import click

from dataops import __version__
from dataops.errors import DataOpsError


class _Group(click.Group):
    """Turns the platform's own errors into one clear line and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DataOpsError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dataops")
def main() -> None:
    """The dataops platform: dbt models orchestrated by Apache Airflow.

    Settings come from the environment and .env (DATAOPS_* variables);
    see README.md for the list.
    """


def _register() -> None:
    from dataops.cli import data, demo, platform  # noqa: F401  (each module adds its commands)
    from dataops.cli import dbt  # noqa: F401


_register()
