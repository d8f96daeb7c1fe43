"""The running stack as the tests see it, and running the ``dataops`` command."""

from __future__ import annotations

import socket
import subprocess
import sys
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
