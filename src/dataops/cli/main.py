"""The ``dataops`` command group; each subcommand lives in its own module.

Subcommands are registered here, and only here, by the module and name that
define them; a module is imported when one of its commands is used (or
listed by ``--help``), so ``dataops up`` does not pay for the loaders'
imports and the subcommand modules never import this one.
"""

from __future__ import annotations

import sys
from importlib import import_module

import click

from dataops import __version__
from dataops.errors import DataOpsError

_HELP_OPTIONS = {"-h", "--help"}
# command name -> "module:attribute" of the click command or group.
COMMANDS = {
    "data": "dataops.cli.data:data",
    "dbt": "dataops.cli.dbt:dbt",
    "demo": "dataops.cli.demo:demo",
    "smoke": "dataops.cli.smoke:smoke",
    "up": "dataops.cli.platform:up",
    "down": "dataops.cli.platform:down",
    "status": "dataops.cli.platform:status",
    "logs": "dataops.cli.platform:logs",
    "publish": "dataops.cli.delivery:publish",
    "versions": "dataops.cli.delivery:versions",
    "rollback": "dataops.cli.delivery:rollback",
    "ci": "dataops.cli.ci:ci",
    "runs": "dataops.cli.runs:runs",
}


class _Group(click.Group):
    """Loads its registered subcommands on first use, refuses misspelt settings
    before any command runs, and turns the platform's own errors into one
    clear line and exit code 1."""

    def __init__(self, *args, lazy_commands: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.lazy_commands:
            module, attribute = self.lazy_commands[name].split(":")
            self.add_command(getattr(import_module(module), attribute), name)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        try:
            # Before any command, help aside (ctx.args: what follows the command's name).
            if not _HELP_OPTIONS & set(ctx.args):
                from dataops.cli.environment import check_environment

                check_environment()
            return super().invoke(ctx)
        except DataOpsError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(1)


@click.group(cls=_Group, lazy_commands=COMMANDS, context_settings={"help_option_names": sorted(_HELP_OPTIONS)})
@click.version_option(__version__, prog_name="dataops")
def main() -> None:
    """The dataops platform: dbt models orchestrated by Apache Airflow.

    Settings come from the environment and .env (DATAOPS_* variables);
    see README.md for the list.
    """
