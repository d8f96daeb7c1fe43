"""The embedded platform: Airflow's components on SQLite with the LocalExecutor.

It needs no server: the warehouse is a DuckDB file and Airflow's metadata a
SQLite file, both under ``.dataops/``. The stack starts Airflow's four
components itself, as ``airflow standalone`` would, each logging to a file
of its own, but without standalone's own process (an Airflow interpreter
that only relays their output: 170 MB measured) and its second pass over
the database the stack has just migrated. They share one process group, so
stopping the stack stops every process they started.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from dataops.errors import DataOpsError
from dataops.local import processes
from dataops.local.airflow_env import airflow_argv, write_local_settings
from dataops.local.airflow_home import ADMIN_USER, AirflowHome
from dataops.local.running import forget_running, record_running


def components(api_port: int) -> dict[str, tuple[str, ...]]:
    """Each component's ``airflow`` arguments, in start order.

    No component serves logs over a port: they all write to the one local log
    folder that the API server reads.
    """
    return {
        "api-server": ("api-server", "--host", "127.0.0.1", "--port", str(api_port)),
        "scheduler": ("scheduler", "--skip-serve-logs"),
        "dag-processor": ("dag-processor",),
        "triggerer": ("triggerer", "--skip-serve-logs"),
    }


@dataclass
class EmbeddedStack:
    home: AirflowHome
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.home.api_port}"

    @property
    def health_url(self) -> str:
        return f"{self.url}/api/v2/monitor/health"

    @property
    def log_dir(self) -> Path:
        """Where each component logs, as ``<component>.log`` (task logs are in Airflow's folders beside)."""
        return self.home.path / "logs"

    def log_file(self, component: str) -> Path:
        return self.log_dir / f"{component}.log"

    @property
    def admin(self) -> tuple[str, str]:
        return ADMIN_USER, self.home.admin_password()

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self.processes.values()]

    def start(self, timeout_s: float = 180.0) -> None:
        processes.require_free_port(self.home.api_port, "the Airflow API server", "--port")
        write_local_settings(self.home.path)
        self.home.migrate()
        self.home.admin_password()
        env = self.home.env()
        group = 0
        try:
            for name, args in components(self.home.api_port).items():
                proc = processes.start(airflow_argv(*args), env, self.log_file(name), cwd=self.home.path, group=group)
                self.processes[name] = proc
                group = group or proc.pid
            processes.wait_until(
                lambda: processes.http_ok(self.health_url),
                timeout_s,
                "Airflow's API server",
                self.log_file("api-server"),
                alive=lambda: self.exited() is None,
            )
        except BaseException as exc:
            ended = self.exited()
            self.stop()
            if ended is not None and isinstance(exc, DataOpsError):
                name, code = ended
                raise DataOpsError(
                    f"Airflow's {name} exited with code {code} while the stack started; see {self.log_file(name)}"
                ) from exc
            raise
        record_running(self.home, self.url)

    def exited(self) -> tuple[str, int] | None:
        """The first component found ended, and its exit code; None while all of them run."""
        for name, proc in self.processes.items():
            code = proc.poll()
            if code is not None:
                return name, code
        return None

    def wait(self) -> tuple[str, int]:
        """Blocks until a component ends: which one, and its exit code."""
        while True:
            ended = self.exited()
            if ended is not None:
                return ended
            time.sleep(0.5)

    def stop(self) -> None:
        forget_running(self.home)
        if self.processes:
            # The first component leads the group all of them joined (it may have ended: the group lives on).
            processes.stop(next(iter(self.processes.values())))
            for proc in self.processes.values():
                try:
                    proc.wait(timeout=10)  # ended with the group: reaped, keeping its exit code
                except subprocess.TimeoutExpired:  # left the group on its own
                    processes.stop(proc.pid)
                    proc.kill()
                    proc.wait()
            self.processes = {}
