"""The running stack as the tests see it, and running the ``dataops`` command."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

DATAOPS = str(Path(sys.executable).parent / "dataops")
SCALE = "0.05"
LOG_TAIL_LINES = 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_dataops(*args: str, env: dict[str, str], timeout_s: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([DATAOPS, *args], env=env, capture_output=True, text=True, timeout=timeout_s)


class Broker:
    """A private ``redis-server`` on a port of its own: the stack's broker, which
    a test may stop and start again (the shared Redis is never touched). It keeps
    nothing on disk, like the shared one, so a restart loses what was queued."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @staticmethod
    def executable() -> str | None:
        return shutil.which("redis-server")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 20.0) -> None:
        import redis

        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [self.executable(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=1).ping()
                return
            except redis.RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"redis-server on port {self.port} did not start; see {self.folder / 'redis.log'}")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(20)
            self.process = None


@dataclass
class Stack:
    """A running services stack and what the tests need to reach it."""

    uid: str
    url: str
    password: str
    env: dict[str, str]
    folder: Path
    state_dir: Path
    project_dir: Path
    extra_dags: Path
    warehouse_db: str
    metadata_db: str
    redis_prefix: str
    pg_conninfo: str
    # The stack's broker, a redis-server of the session's own.
    broker: Broker | None = None
    # What `dataops up` printed.
    up_output: str = ""
    # Relations as the first successful run left them (filled by the end-to-end test).
    baseline: dict = field(default_factory=dict)

    @property
    def logs_dir(self) -> Path:
        return self.folder / "logs"

    def log_tails(self, lines: int = LOG_TAIL_LINES) -> str:
        parts = []
        for log in sorted(self.logs_dir.glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"----- {log.name} (last {lines} lines)\n" + "\n".join(text))
        return "\n".join(parts)

    def state(self):
        from dataops.local.services.state import StackState

        return StackState.read(self.folder / "state.json")

    def settings(self):
        """Settings aimed at this stack's warehouse and dbt project copy."""
        from dataops.config import load_settings
        from dataops.warehouses.postgres import PostgresSettings

        settings = load_settings(target="postgres", state_dir=self.state_dir, dbt_project_dir=self.project_dir,
                                 scale=float(SCALE))
        return settings.with_section(PostgresSettings(database=self.warehouse_db))
