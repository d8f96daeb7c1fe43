"""The GitHub workflows run the README's commands, and GitHub's schema accepts them.

Every workflow in .github/workflows is loaded (whoever added it): each
``dataops <command>`` its steps run must be a registered command that the
README documents, and each ``make [-C dir] <target>`` a target of that
Makefile that the folder's README documents; the workflows that exist for
a command must run it (analytics-ci: ``dataops ci``; test: ``make test``;
analytics-publish, when there is one: ``dataops publish``). Each file also
validates against GitHub's workflow schema (check-jsonschema's built-in
``vendor.github-workflows``, offline).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dataops import paths
from dataops.cli.main import COMMANDS

ROOT = paths.repo_root()
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
# workflow file -> the README command it exists to run.
REQUIRED = {"analytics-ci.yml": "dataops ci", "test.yml": "make test", "analytics-publish.yml": "dataops publish"}
_DATAOPS = re.compile(r"(?:^|[\s/])dataops\s+([a-z][a-z-]*)")
_MAKE = re.compile(r"(?:^|[\s;&|])make((?:\s+-C\s+\S+)?)((?:\s+[a-z][a-z0-9_-]*)+)")
_TARGET = re.compile(r"^([a-z][a-z0-9_-]*):", re.MULTILINE)


def run_steps(workflow: Path) -> list[str]:
    data = yaml.safe_load(workflow.read_text())
    return [
        str(step["run"])
        for job in (data.get("jobs") or {}).values()
        for step in job.get("steps") or ()
        if isinstance(step, dict) and "run" in step
    ]


def commands(script: str) -> list[str]:
    """``dataops ci`` and ``make -C infra test``-like commands of a step's script."""
    found = [f"dataops {name}" for name in _DATAOPS.findall(script)]
    for folder, targets in _MAKE.findall(script):
        prefix = f"make{' -C ' + folder.split()[-1] if folder else ''}"
        found += [f"{prefix} {t}" for t in targets.split() if "=" not in t]
    return found


def test_the_workflows_are_there():
    names = {w.name for w in WORKFLOWS}
    assert {"analytics-ci.yml", "test.yml"} <= names


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_steps_call_the_readmes_commands(workflow):
    called = [c for script in run_steps(workflow) for c in commands(script)]
    readme = (ROOT / "README.md").read_text()
    for command in called:
        if command.startswith("dataops "):
            name = command.split()[1]
            assert name in COMMANDS, f"{workflow.name}: `{command}` is not a dataops command"
            assert f"dataops {name}" in readme, f"{workflow.name}: `{command}` is not in README.md"
        else:
            folder = ROOT / command.split()[2] if " -C " in command else ROOT
            target = command.split()[-1]
            assert target in _TARGET.findall((folder / "Makefile").read_text()), (
                f"{workflow.name}: `{command}`: no target {target} in {folder / 'Makefile'}"
            )
            docs = (readme + (folder / "README.md").read_text()) if folder != ROOT else readme
            assert command in docs or command.replace(f" -C {folder.name}", "") in docs, (
                f"{workflow.name}: `{command}` is not in the README"
            )
    if workflow.name in REQUIRED:
        assert REQUIRED[workflow.name] in called, f"{workflow.name} must run `{REQUIRED[workflow.name]}`: {called}"
        assert REQUIRED[workflow.name] in readme


def test_the_workflows_validate_against_githubs_schema():
    checker = Path(sys.executable).parent / "check-jsonschema"
    done = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_command_finder():
    assert commands(".venv/bin/dataops ci --state x") == ["dataops ci"]
    assert commands("make test PYTHON=python3.11") == ["make test"]
    assert commands("make -C infra test PYTHON=python3.11") == ["make -C infra test"]
    assert commands("cd x && make setup demo") == ["make setup", "make demo"]
