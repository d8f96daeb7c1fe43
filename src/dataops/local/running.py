"""The Airflow that a local stack of this checkout is running, found from its state files.

The services stack records its URL in its state file and its admin password
in its secrets; the embedded stack records its URL beside its home while it
runs. Used by ``dataops publish`` to ask which bundle versions unfinished
runs read before pruning.
"""

from __future__ import annotations

import json
import os

from dataops.config import Settings
from dataops.local.airflow_home import ADMIN_USER, AirflowHome

RUNNING_FILE = "running.json"


def record_running(home: AirflowHome, url: str) -> None:
    """The embedded stack is up at ``url`` (its process is this one's child)."""
    (home.path / RUNNING_FILE).write_text(json.dumps({"url": url, "pid": os.getpid()}))


def forget_running(home: AirflowHome) -> None:
    (home.path / RUNNING_FILE).unlink(missing_ok=True)


def running_airflow(settings: Settings) -> tuple[str, str, str] | None:
    """``(url, user, password)`` of the local stack that is up, if one is."""
    return _services(settings) or _embedded(settings)


def _services(settings: Settings) -> tuple[str, str, str] | None:
    from dataops.local.services.config import ServicesConfig
    from dataops.local.services.state import StackState
    from dataops.local.services.state import READY

    folder = settings.state_dir / "services"
    if not (folder / "config.json").is_file():
        return None
    config = ServicesConfig.load(folder)
    state = StackState.read(config.state_file)
    if state is None or not state.supervisor.alive() or state.phase != READY:
        return None
    try:
        password = json.loads(config.secrets_file.read_text())["admin_password"]
    except (FileNotFoundError, ValueError, KeyError):
        return None
    return state.url, ADMIN_USER, password


def _embedded(settings: Settings) -> tuple[str, str, str] | None:
    home = AirflowHome.for_settings(settings)
    try:
        record = json.loads((home.path / RUNNING_FILE).read_text())
        os.kill(int(record["pid"]), 0)
    except (FileNotFoundError, ValueError, KeyError, ProcessLookupError, PermissionError):
        return None
    return record["url"], ADMIN_USER, home.admin_password()


def in_use_versions(url: str, user: str, password: str) -> set[str]:
    """The bundle versions the queued and running runs of that Airflow read."""
    from dataops.local.api import AirflowApi

    return {run.bundle_version for run in AirflowApi(url, user, password).unfinished_runs() if run.bundle_version}

