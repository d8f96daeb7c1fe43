"""Invoking dbt in its own environment, one process per invocation.

dbt lives in a separate virtual environment (or container) from Airflow, so it
is run as a subprocess. Its structured (JSON) log lines are streamed to a
callback as they come, so callers can follow each node live; when the process
ends, ``run_results.json`` gives each node's final status.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from dataops.dbt.events import LogLineReader, failure_reason
from dataops.dbt.launch import THEN, chain_command, dbt_command
from dataops.dbt.project import DbtProject
from dataops.dbt.results import RunResults
from dataops.errors import DbtError
from dataops.process_groups import die_with_parent, stop

log = logging.getLogger(__name__)

EventHandler = Callable[[dict], None]
StartHandler = Callable[[subprocess.Popen], None]
# How long dbt has to stop after SIGTERM before its group is killed.
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class DbtInvocation:
    """One dbt command line, described rather than spelled out."""

    command: str = "build"
    select: Sequence[str] = ()
    exclude: Sequence[str] = ()
    # A directory of its own keeps concurrent runs from overwriting each
    # other's artifacts; None uses the project's target/.
    target_path: Path | None = None
    threads: int | None = None
    extra_args: Sequence[str] = field(default_factory=tuple)
    # Commands run after this one, in the same target path, each only if the one before
    # succeeded: in the same dbt process where dbt allows (dataops.dbt.launch.CHAIN).
    then: Sequence[DbtInvocation] = ()

    def describe(self) -> str:
        """``parse`` or ``parse, then docs generate``."""
        return ", then ".join(inv.command for inv in (self, *self.then))


@dataclass(frozen=True)
class DbtRun:
    """A finished dbt process."""

    invocation: DbtInvocation
    returncode: int
    target_path: Path
    duration_s: float
    results: RunResults | None
    errors: tuple[str, ...] = ()
    # The last lines dbt printed that were not JSON events (a command-line
    # error from click, a Python traceback): the only trace of some failures.
    plain_output: tuple[str, ...] = ()
    # dbt's deprecation warnings (a renamed setting in dbt_project.yml...), in its words.
    deprecations: tuple[str, ...] = ()

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0

    def raise_for_status(self) -> None:
        if self.succeeded:
            return
        raise DbtError(describe_failure(self))


def describe_failure(run: DbtRun) -> str:
    """One message naming the failed models and tests and why, or what dbt said when it stopped."""
    lines = [f"dbt {run.invocation.describe()} failed (exit code {run.returncode})."]
    failed = run.results.failed if run.results else ()
    for node in failed:
        message = (node.message or "").strip().splitlines()
        lines.append(f"  {node.resource_type} {node.name}: {node.status}: {message[0] if message else ''}")
    if not failed:
        lines.extend(f"  {line}" for line in failure_reason(run.errors, run.plain_output).splitlines())
        log_file = run.target_path / "dbt.log"
        if log_file.is_file():
            lines.append(f"  dbt's log: {log_file}")
    return "\n".join(lines)


def selection_args(inv: DbtInvocation) -> list[str]:
    """The flags after the command that say what to build: the same wherever dbt runs."""
    args: list[str] = []
    if inv.select:
        args += ["--select", *inv.select]
    if inv.exclude:
        args += ["--exclude", *inv.exclude]
    if inv.threads:
        args += ["--threads", str(inv.threads)]
    return args + list(inv.extra_args)


class DbtRunner:
    """Runs dbt commands against one project."""

    def __init__(self, project: DbtProject):
        self.project = project

    def argv(self, inv: DbtInvocation, target_path: Path) -> list[str]:
        """dbt's command line as a user would type it (``dbt ...``), ``inv.then`` left out."""
        p = self.project
        # A command of two words ("docs generate") is two arguments.
        args = [str(p.dbt_bin), "--log-format", "json", "--no-use-colors", *inv.command.split()]
        args += ["--project-dir", str(p.project_dir), *p.profile.args()]
        args += ["--target-path", str(target_path), "--log-path", str(target_path)]
        args += selection_args(inv)
        return args

    def _launch(self, inv: DbtInvocation, target_path: Path) -> list[str]:
        """The argv that runs ``inv`` (``inv.then`` too, chained); see dataops.dbt.launch."""
        argv = self.argv(inv, target_path)
        if not inv.then:
            log.info("running %s", " ".join(argv))
            return [*dbt_command(self.project.dbt_bin), *argv[1:]]
        for after in inv.then:
            argv += [THEN, *self.argv(after, target_path)]
        log.info("running %s", " ".join(argv))
        return [*chain_command(self.project.dbt_bin), *argv]

    def invoke(
        self, inv: DbtInvocation, on_event: EventHandler | None = None, on_start: StartHandler | None = None
    ) -> DbtRun:
        """Run dbt to the end; never raises for dbt's own failures (see DbtRun).

        ``on_start`` is given the dbt process as soon as it runs (its pid
        leads dbt's process group). dbt is tied to the calling thread: it is
        sent SIGTERM if that thread's process dies.
        """
        self.project.check_installed()
        if inv.then and chain_command(self.project.dbt_bin) is None:
            return self._invoke_one_by_one(inv, on_event, on_start)
        target_path = Path(inv.target_path or self.project.project_dir / "target")
        target_path.mkdir(parents=True, exist_ok=True)
        (target_path / "run_results.json").unlink(missing_ok=True)

        argv = self._launch(inv, target_path)
        reader = LogLineReader(on_event, log)
        started = time.monotonic()
        with subprocess.Popen(
            argv,
            cwd=self.project.project_dir,
            env=self.project.process_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        ) as proc:
            assert proc.stdout is not None
            try:
                if on_start is not None:
                    on_start(proc)
                for line in proc.stdout:
                    reader.feed(line)
            except BaseException:
                # The task is being stopped, or reading failed: no dbt may outlive this call.
                log.warning("stopping dbt (pid %d) and everything it started", proc.pid)
                stop(proc, STOP_TIMEOUT_S)
                raise
        results_file = target_path / "run_results.json"
        results = RunResults.from_file(results_file) if results_file.is_file() else None
        return DbtRun(
            invocation=inv,
            returncode=proc.returncode,
            target_path=target_path,
            duration_s=time.monotonic() - started,
            results=results,
            errors=tuple(reader.errors),
            plain_output=tuple(reader.plain_output),
            deprecations=tuple(reader.deprecations),
        )

    def _invoke_one_by_one(self, inv: DbtInvocation, on_event, on_start) -> DbtRun:
        """``inv`` and what follows it, one dbt process each (a ``dbt`` that is not dbt's console
        script); the run that failed, else the last, stands for them all."""
        first = replace(inv, then=())
        run = self.invoke(first, on_event, on_start)
        for after in inv.then:
            if not run.succeeded:
                break
            run = self.invoke(replace(after, target_path=run.target_path), on_event, on_start)
        return replace(run, invocation=inv)
