"""Slim CI's build: ``dbt build --select state:modified+ --defer --state <production>``.

Only the changed models and what depends on them are built (with their
tests), into the run's schema; the unchanged models they read resolve to
production's relations through dbt's deferral. Without production's manifest
the whole project is built. The run's target folder is the one the change
listing parsed into, so dbt reuses that parse.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dataops.dbt.runner import DbtInvocation, DbtRun, DbtRunner

SLIM_SELECT = "state:modified+"


def slim_invocation(target_path: Path, state_dir: Path | None, threads: int | None = None) -> DbtInvocation:
    if state_dir is None:
        return DbtInvocation(command="build", target_path=target_path, threads=threads)
    return DbtInvocation(
        command="build",
        select=[SLIM_SELECT],
        target_path=target_path,
        threads=threads,
        extra_args=["--defer", "--state", str(state_dir)],
    )


def slim_build(runner: DbtRunner, target_path: Path, state_dir: Path | None,
               on_event: Callable[[dict], None] | None = None, threads: int | None = None) -> DbtRun:
    """Runs the build to its end; the DbtRun says what passed and failed."""
    return runner.invoke(slim_invocation(target_path, state_dir, threads), on_event)
