"""SQL lint of the changed models with sqlfluff, by the project's ``.sqlfluff``.

sqlfluff runs from the platform's environment (the jinja templater: no dbt,
no warehouse; see ``analytics/dbt/.sqlfluff`` for why), as a subprocess with
JSON output, from the project's folder so its configuration applies. A
project without a ``.sqlfluff`` is linted with sqlfluff's defaults in the
dialect of the CI target. Every violation is named by file, line and rule.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dataops.ci.errors import CiError

CONFIG_FILE = ".sqlfluff"
# dataops targets -> sqlfluff dialects.
_DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "redshift": "redshift"}


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    position: int
    code: str
    description: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.position}: {self.code} {self.description}"


@dataclass(frozen=True)
class LintResult:
    files: tuple[str, ...]
    violations: tuple[Violation, ...]
    # How the files were linted, for the report.
    config: str
    seconds: float

    @property
    def passed(self) -> bool:
        return not self.violations


def sqlfluff_bin() -> Path:
    beside = Path(sys.executable).parent / "sqlfluff"
    found = beside if beside.is_file() else Path(shutil.which("sqlfluff") or beside)
    if not found.is_file():
        raise CiError(
            f"sqlfluff is not installed in {Path(sys.executable).parent.parent}: run `make setup` "
            "(it is in requirements/dev.txt)."
        )
    return found


def lint_files(project_dir: Path, files: Sequence[str], target: str = "duckdb") -> LintResult:
    """Lints ``files`` (relative to ``project_dir``); the result names each violation."""
    started = time.monotonic()
    project_dir = Path(project_dir)
    if (project_dir / CONFIG_FILE).is_file():
        config, extra = f"{CONFIG_FILE} of the project", []
    else:
        dialect = _DIALECTS.get(target, "ansi")
        config, extra = f"sqlfluff's defaults, dialect {dialect} (the project has no {CONFIG_FILE})", [
            "--dialect", dialect,
        ]
    if not files:
        return LintResult((), (), config, 0.0)
    argv = [str(sqlfluff_bin()), "lint", "--format", "json", "--disable-progress-bar", *extra, *files]
    done = subprocess.run(argv, cwd=project_dir, capture_output=True, text=True, check=False)
    try:
        report = json.loads(done.stdout or "null")
    except ValueError:
        report = None
    if not isinstance(report, list):
        tail = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise CiError(f"sqlfluff could not lint {', '.join(files)} in {project_dir}: {tail}")
    violations = [
        Violation(
            path=item["filepath"],
            line=int(v.get("start_line_no") or v.get("line_no") or 0),
            position=int(v.get("start_line_pos") or v.get("line_pos") or 0),
            code=str(v.get("code") or "?"),
            description=str(v.get("description") or "").strip(),
        )
        for item in report
        for v in item.get("violations", [])
        if not v.get("warning")
    ]
    violations.sort(key=lambda v: (v.path, v.line, v.position, v.code))
    return LintResult(tuple(files), tuple(violations), config, time.monotonic() - started)
