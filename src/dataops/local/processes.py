"""Starting and stopping long-running local processes, cleanly.

Each supervised process gets its own process group so that stopping it also
stops whatever it started (an Airflow component starts processes of its own).
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from dataops.errors import DataOpsError
# The one process-group killer, shared with the dbt executor (which may not import this layer).
from dataops.process_groups import signal_group, stop  # noqa: F401


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_free_port(port: int, what: str, setting: str) -> None:
    if not port_is_free(port):
        raise DataOpsError(
            f"port {port} on 127.0.0.1 is taken, so {what} cannot start. "
            f"Stop whatever listens there or choose another port with {setting}."
        )


def start(
    argv: list[str], env: dict[str, str], log_file: Path, cwd: Path | None = None, group: int | None = None,
) -> subprocess.Popen:
    """``argv`` in the background, its output appended to ``log_file``.

    ``group`` None: the process leads a session (and group) of its own. 0: it
    leads a new process group in this session; a pid: it joins the group that
    process leads (started here with 0: a group can only be joined within its
    session), so several processes stop as one.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    placement = {"start_new_session": True} if group is None else {"process_group": group}
    with open(log_file, "ab") as out:
        return subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            **placement,
        )


def wait_until(check: Callable[[], bool], timeout_s: float, what: str, log_file: Path | None = None,
               alive: Callable[[], bool] | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        if alive is not None and not alive():
            raise DataOpsError(f"{what} exited during start-up; see {log_file}")
        time.sleep(0.5)
    raise DataOpsError(f"{what} did not become ready within {timeout_s:.0f}s; see {log_file}")


def http_ok(url: str, timeout_s: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False
