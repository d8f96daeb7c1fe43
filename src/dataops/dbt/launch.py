"""How a dbt process is started: dbt's own command line, ended as soon as dbt is done.

dbt's command line returns once it has written its artifacts and printed its
summary, but its interpreter then takes about half a second more to exit
(finalizing the modules dbt imported, measured here with py-spy and timed
events: 0.5 to 0.85 s for TICKIT on DuckDB). The platform waits for that exit:
a DuckDB file stays locked until dbt's process lets go of it, the publish
needs it, and the task's end waits for the process. So where ``dbt`` is the
usual Python console script, the platform runs the same ``dbt.cli.main:cli``
in the same interpreter, then closes dbt's connections itself (DuckDB
checkpoints its file there), flushes the logs and ends the process with dbt's
exit code, skipping the teardown. Anything else called ``dbt`` (a wrapper
script, another build of dbt) is run as it is.

Commands that follow one another on the same project (``dbt parse``, then
``dbt docs generate``) run in one such process where dbt allows it (CHAIN).
"""

from __future__ import annotations

from pathlib import Path

# How both scripts below end once dbt is done with `code`: dbt's connections closed (DuckDB
# checkpoints its file there), logs flushed, the interpreter's teardown skipped.
_END = """\
try:
    from dbt.adapters.factory import cleanup_connections, reset_adapters
    cleanup_connections()
    reset_adapters()
finally:
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)
"""

# Run by dbt's own interpreter as `python -c FAST_EXIT <dbt> <args>`: dbt sees argv as its script would.
FAST_EXIT = """\
import logging, os, sys
sys.argv = sys.argv[1:]
from dbt.cli.main import cli
try:
    cli()
    code = 0
except SystemExit as exc:
    code = exc.code
if code is not None and not isinstance(code, int):
    print(code, file=sys.stderr)
    code = 1
""" + _END

# Between two commands of a chain: `python -c CHAIN <dbt> <args> && <dbt> <args>`.
THEN = "&&"

# Several commands in one interpreter, each run only if the one before succeeded, each given the
# manifest the one before parsed: one start of dbt (about 2 CPU-s of imports) and one parse for
# all. dbtRunner is dbt's programmatic entry point, made for invocations in one process.
CHAIN = """\
import logging, os, sys, traceback
from dbt.cli.main import dbtRunner
from dbt.contracts.graph.manifest import Manifest
commands = [[]]
for arg in sys.argv[1:]:
    if arg == %r:
        commands.append([])
    else:
        commands[-1].append(arg)
manifest, code = None, 0
for command in commands:
    result = dbtRunner(manifest=manifest).invoke(command[1:])
    if isinstance(result.result, Manifest):
        manifest = result.result
    if not result.success:
        # dbt logs its own errors as events; a bad command line or a crash only here.
        if result.exception is not None:
            print("".join(traceback.format_exception_only(result.exception)).rstrip(), file=sys.stderr)
        code = 1 if result.exception is None else 2
        break
""" % THEN + _END

_CONSOLE_SCRIPT_ENTRY = "from dbt.cli.main import cli"


def dbt_command(dbt_bin: Path) -> list[str]:
    """The argv prefix that runs ``dbt_bin``: its interpreter with FAST_EXIT for dbt's console script,
    else the executable itself."""
    interpreter = _console_script_interpreter(Path(dbt_bin))
    if interpreter is None:
        return [str(dbt_bin)]
    return [interpreter, "-c", FAST_EXIT, str(dbt_bin)]


def chain_command(dbt_bin: Path) -> list[str] | None:
    """The argv prefix that runs commands joined by THEN in one dbt process (CHAIN), or None where
    ``dbt_bin`` is not dbt's console script: those commands are run one process each."""
    interpreter = _console_script_interpreter(Path(dbt_bin))
    if interpreter is None:
        return None
    return [interpreter, "-c", CHAIN]


def _console_script_interpreter(dbt_bin: Path) -> str | None:
    try:
        with dbt_bin.open("rb") as script:
            head = script.read(4096).decode("utf-8", "replace")
    except OSError:
        return None
    first, _, rest = head.partition("\n")
    if not first.startswith("#!") or _CONSOLE_SCRIPT_ENTRY not in rest:
        return None
    interpreter = first[2:].strip()
    # An absolute interpreter path alone (uv's and pip's scripts); `/usr/bin/env python` and
    # arguments are left to the script itself.
    if " " in interpreter or not interpreter.startswith("/") or "python" not in Path(interpreter).name:
        return None
    return interpreter if Path(interpreter).is_file() else None
