"""The embedded platform: ``airflow standalone`` on SQLite with the LocalExecutor.

It needs no server: the warehouse is a DuckDB file and Airflow's metadata a
SQLite file, both under ``.dataops/``.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dataops.local import processes
from dataops.local.airflow_env import write_local_settings
from dataops.local.airflow_home import ADMIN_USER, AirflowHome
from dataops.local.running import forget_running, record_running


@dataclass
class EmbeddedStack:
    home: AirflowHome
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.home.api_port}"

    @property
    def health_url(self) -> str:
        return f"{self.url}/api/v2/monitor/health"

    @property
    def log_file(self) -> Path:
        return self.home.path / "logs" / "standalone.log"

    @property
    def admin(self) -> tuple[str, str]:
        return ADMIN_USER, self.home.admin_password()

    def start(self, timeout_s: float = 180.0) -> None:
        processes.require_free_port(self.home.api_port, "the Airflow API server", "--port")
        write_local_settings(self.home.path)
        self.home.migrate()
        self.home.admin_password()
        airflow = str(Path(sys.executable).parent / "airflow")
        self.process = processes.start([airflow, "standalone"], self.home.env(), self.log_file, cwd=self.home.path)
        processes.wait_until(
            lambda: processes.http_ok(self.health_url),
            timeout_s,
            "Airflow (standalone)",
            self.log_file,
            alive=lambda: self.process.poll() is None,
        )
        record_running(self.home, self.url)

    def wait(self) -> int:
        assert self.process is not None
        return self.process.wait()

    def stop(self) -> None:
        forget_running(self.home)
        if self.process is not None:
            processes.stop(self.process.pid)
            self.process = None
