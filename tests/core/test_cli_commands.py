"""The ``dataops`` command's registration: every command answers ``--help``,
the subcommand modules never import the group that registers them, and bad
option values are refused before anything starts."""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import dataops.cli
from dataops.cli.main import main


def _command_paths(group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, f"`dataops {' '.join((*prefix, name))}` is listed but cannot be loaded"
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += _command_paths(command, click.Context(command, parent=ctx), (*prefix, name))
    return found


ALL_COMMANDS = _command_paths(main, click.Context(main))


def test_the_commands_are_all_registered():
    top = {path[0] for path in ALL_COMMANDS}
    assert {"data", "dbt", "demo", "up", "down", "status", "logs"} <= top
    assert ("data", "load") in ALL_COMMANDS and ("dbt", "manifest") in ALL_COMMANDS


@pytest.mark.parametrize("path", [(), *ALL_COMMANDS], ids=lambda p: " ".join(p) or "dataops")
def test_every_command_answers_help(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage:")


def test_no_cli_module_imports_the_main_group():
    folder = Path(dataops.cli.__file__).parent
    offenders = []
    for module in folder.glob("*.py"):
        if module.name in ("main.py", "__init__.py"):
            continue
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "dataops.cli.main":
                offenders.append(module.name)
            elif isinstance(node, ast.ImportFrom) and node.module == "dataops.cli" and any(
                alias.name == "main" for alias in node.names
            ):
                offenders.append(module.name)
            elif isinstance(node, ast.Import) and any(alias.name == "dataops.cli.main" for alias in node.names):
                offenders.append(module.name)
    assert not offenders, f"these modules import dataops.cli.main (an import cycle): {offenders}"


@pytest.mark.parametrize("stack", ["embedded", "services"])
@pytest.mark.parametrize("port", ["0", "65536", "-1"])
def test_up_refuses_a_port_that_is_no_port_at_once(stack, port):
    result = CliRunner().invoke(main, ["up", "--stack", stack, "--port", port])
    assert result.exit_code == 2, result.output
    assert "--port" in result.output and port in result.output
