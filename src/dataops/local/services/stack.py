"""The services stack's life: up (in the foreground or detached), status, down."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from dataops.config import Settings
from dataops.errors import DataOpsError
from dataops.local import processes
from dataops.local.services import preflight
from dataops.local.services.components import components
from dataops.local.services.config import ServicesConfig
from dataops.local.services.credentials import ADMIN_USER, StackSecrets
from dataops.local.services.environment import STACK_ID_VARIABLE, component_env
from dataops.local.services.provision import provision
from dataops.local.services.state import READY, ProcessRecord, StackState, pids_with_marker
from dataops.local.services.supervisor import Supervisor

Announce = Callable[[str], None]
HEALTHY_COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")
READY_TIMEOUT_S = 240.0


@dataclass(frozen=True)
class Running:
    """What the user needs once the stack is up."""

    url: str
    user: str
    password: str
    logs_dir: str


def running_state(config: ServicesConfig) -> StackState | None:
    """The state of a stack whose supervisor still runs, else None."""
    state = StackState.read(config.state_file)
    if state is not None and state.supervisor.alive():
        return state
    return None


def prepare(config: ServicesConfig, settings: Settings, announce: Announce) -> tuple[ServicesConfig, dict[str, str]]:
    """Checks, secrets, databases and Airflow's schema: everything before the processes start."""
    state = running_state(config)
    if state is not None:
        raise DataOpsError(
            f"a services stack is already running from {config.folder} (supervisor pid {state.supervisor.pid}, "
            f"{state.url}); stop it with `dataops down` first"
        )
    preflight.check_all(config)
    config = config.with_stack_id(uuid.uuid4().hex)
    secrets = StackSecrets.ensure(config)
    config.save()
    env = component_env(config, secrets)
    provision(config, settings, env, announce)
    return config, env


def run_foreground(config: ServicesConfig, env: dict[str, str], on_ready: Callable[[Running], None]) -> None:
    """Supervises the stack until SIGINT or SIGTERM, then stops everything it started."""
    supervisor = _supervisor(config, env)
    previous = {sig: signal.signal(sig, lambda *_: supervisor.request_stop()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        supervisor.start_all()
        wait_ready(config, supervisor)
        supervisor.mark_ready()
        on_ready(running_info(config))
        supervisor.watch()
    finally:
        supervisor.stop_all()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def start_detached(config: ServicesConfig, env: dict[str, str], timeout_s: float = READY_TIMEOUT_S + 30) -> Running:
    """Starts a supervisor in the background and returns once the stack is ready."""
    log_file = config.log_file("supervisor")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    config.state_file.unlink(missing_ok=True)
    with open(log_file, "ab") as out:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "dataops.local.services.daemon", str(config.folder)],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise DataOpsError(f"the stack did not start (supervisor exit code {daemon.returncode}):\n{_tail(log_file, 20)}")
        state = StackState.read(config.state_file)
        if state is not None and state.phase == READY:
            return running_info(config)
        time.sleep(0.5)
    os.killpg(daemon.pid, signal.SIGTERM)
    raise DataOpsError(f"the stack did not become ready within {timeout_s:.0f}s; see {log_file}")


def wait_ready(config: ServicesConfig, supervisor: Supervisor, timeout_s: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if supervisor.stopping:
            raise DataOpsError("stopped while starting")
        supervisor.check_once()
        restarted = [c for c in supervisor.children if c.restarts > 0]
        if restarted:
            c = restarted[0]
            raise DataOpsError(f"{c.name} exited during start-up (code {c.last_exit}); see {c.log_file}:\n{_tail(c.log_file, 15)}")
        if _healthy(config) and all(b" ready." in c.output() for c in supervisor.children if c.name.startswith("worker-")):
            return
        time.sleep(1.0)
    waiting = ", ".join(health_summary(config).get("unhealthy", [])) or "the Celery workers"
    raise DataOpsError(f"the stack did not become ready within {timeout_s:.0f}s (waiting for {waiting}); see {config.logs_dir}")


def running_info(config: ServicesConfig) -> Running:
    secrets = StackSecrets.ensure(config)
    return Running(url=config.url, user=ADMIN_USER, password=secrets.admin_password, logs_dir=str(config.logs_dir))


def health(config: ServicesConfig, timeout_s: float = 2.0) -> dict | None:
    try:
        with urllib.request.urlopen(config.health_url, timeout=timeout_s) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def health_summary(config: ServicesConfig) -> dict[str, list[str]]:
    found = health(config) or {}
    healthy = [n for n in HEALTHY_COMPONENTS if (found.get(n) or {}).get("status") == "healthy"]
    return {"healthy": healthy, "unhealthy": [n for n in HEALTHY_COMPONENTS if n not in healthy]}


def _healthy(config: ServicesConfig) -> bool:
    return not health_summary(config)["unhealthy"]


def stop(config: ServicesConfig, timeout_s: float = 60.0) -> list[str]:
    """Stops the stack started from ``config.folder``: its supervisor, then anything of it left.

    Only processes recorded in the state file (pid and start time) or carrying
    the stack's marker in their environment are signalled. Returns what it did.
    """
    state = StackState.read(config.state_file)
    if state is None:
        return []
    done = []
    if state.supervisor.alive():
        os.kill(state.supervisor.pid, signal.SIGTERM)
        if _wait_gone(state.supervisor, timeout_s):
            done.append(f"supervisor (pid {state.supervisor.pid}) stopped its components")
        else:
            os.kill(state.supervisor.pid, signal.SIGKILL)
            done.append(f"supervisor (pid {state.supervisor.pid}) killed after {timeout_s:.0f}s")
    for name, record in state.components.items():
        if record.alive():
            processes.stop(record.pid, 20.0)
            done.append(f"{name} (pid {record.pid}) stopped")
    leftovers = pids_with_marker(STACK_ID_VARIABLE, state.stack_id) if state.stack_id else []
    for pid in leftovers:
        try:
            os.kill(pid, signal.SIGKILL)
            done.append(f"leftover pid {pid} killed")
        except ProcessLookupError:
            pass
    config.state_file.unlink(missing_ok=True)
    done += _remove_broker_keys(config)
    return done


def _remove_broker_keys(config: ServicesConfig) -> list[str]:
    """The stack's Celery binding keys out of Redis, once nothing of the stack runs."""
    import redis

    from dataops.local.services.broker_keys import remove_binding_keys
    from dataops.local.services.preflight import driver_problem

    try:
        removed = remove_binding_keys(config.redis.url, config.redis_prefix)
    except redis.RedisError as exc:
        return [f"Celery's binding keys (prefix {config.redis_prefix!r}) are left in Redis at "
                f"{config.redis.address}: {driver_problem(exc)}"]
    return [f"removed {removed} Celery binding keys (prefix {config.redis_prefix!r}) from Redis"] if removed else []


def _wait_gone(record: ProcessRecord, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not record.alive():
            return True
        time.sleep(0.2)
    return not record.alive()


def _supervisor(config: ServicesConfig, env: dict[str, str]) -> Supervisor:
    return Supervisor(
        components(config), env, config.logs_dir, config.airflow_home, config.state_file, config.url, config.stack_id
    )


def _tail(path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return f"({path} does not exist)"


def configure_supervisor_log(config: ServicesConfig, to_console: bool) -> None:
    """The supervisor's own log: its folder's supervisor.log, and the console in the foreground."""
    logger = logging.getLogger("dataops.services")
    logger.setLevel(logging.INFO)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    handlers: list[logging.Handler] = []
    if to_console:
        handlers.append(logging.StreamHandler(sys.stderr))
        config.logs_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(config.log_file("supervisor")))
    else:  # detached: stderr already goes to supervisor.log
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(formatter)
        logger.addHandler(handler)
