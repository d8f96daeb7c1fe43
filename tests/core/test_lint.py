"""The platform's code passes ruff (ruff.toml: undefined names, unused imports
and variables, syntax errors), so a name left behind by a move or a merge fails
here, not when the line that uses it first runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dataops import paths


def test_ruff_finds_nothing():
    root = paths.repo_root()
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run(
        [str(ruff), "check", "--no-cache", "src", "tests", "bench"], cwd=root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
