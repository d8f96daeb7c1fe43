"""How dbt is started (dataops.dbt.launch): dbt's console script through its own
interpreter, ended as soon as dbt is done, with dbt's exit code; anything else as it is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dataops.config import load_settings
from dataops.dbt.launch import FAST_EXIT, dbt_command


def _script(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


def test_dbts_console_script_runs_through_its_interpreter(tmp_path):
    dbt = _script(tmp_path / "dbt", f"#!{sys.executable}\nimport sys\nfrom dbt.cli.main import cli\nsys.exit(cli())\n")
    assert dbt_command(dbt) == [sys.executable, "-c", FAST_EXIT, str(dbt)]


def test_other_dbts_run_as_they_are(tmp_path):
    shell = _script(tmp_path / "dbt-sh", "#!/bin/sh\nexec /opt/dbt/bin/dbt \"$@\"\n")
    env_python = _script(tmp_path / "dbt-env", "#!/usr/bin/env python3\nfrom dbt.cli.main import cli\ncli()\n")
    missing_interpreter = _script(tmp_path / "dbt-gone", "#!/nowhere/bin/python\nfrom dbt.cli.main import cli\ncli()\n")
    for dbt in (shell, env_python, missing_interpreter, tmp_path / "absent"):
        assert dbt_command(dbt) == [str(dbt)]


def test_the_platforms_dbt_ends_with_dbts_own_exit_codes(tmp_path):
    dbt = load_settings().dbt_bin
    command = dbt_command(dbt)
    assert command[1:3] == ["-c", FAST_EXIT], "the pinned dbt environment's dbt is a console script"

    version = subprocess.run([*command, "--version"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert version.returncode == 0 and "Core:" in version.stdout, version
    # dbt's own error (no project here): exit code 2 and dbt's message, as plain dbt gives them.
    no_project = subprocess.run(
        [*command, "parse", "--project-dir", str(tmp_path), "--profiles-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert no_project.returncode == 2 and "dbt_project.yml" in no_project.stdout + no_project.stderr, no_project
