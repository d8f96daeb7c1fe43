"""What ``dataops status`` says: each component's real state, the broker and
Airflow's own health, and whether the stack can run tasks now.

A component counts as up only when its process runs (the supervisor's state
file, checked against ``/proc``) *and*, for the ones Airflow reports on,
Airflow's health endpoint calls it healthy: Airflow keeps calling a killed
triggerer "healthy" until its last heartbeat is 30 s old, and a process can
run while its heartbeats have stopped. The Celery broker is pinged at the
stack's URL: while it is down no task can be sent (the scheduler keeps them
queued for ``broker_outage_s``) and the workers wait for it. A worker counts
as up when its process runs and the broker answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dataops.local.services.config import ServicesConfig
from dataops.local.services.state import StackState

# Airflow's health report names -> the stack's components.
HEALTH_COMPONENTS = {"scheduler": "scheduler", "triggerer": "triggerer", "dag_processor": "dag-processor"}


@dataclass
class ComponentStatus:
    name: str
    pid: int
    restarts: int
    state: str  # "up", "down" or "unhealthy"
    detail: str = ""


@dataclass
class StackStatus:
    phase: str
    url: str
    supervisor_pid: int
    broker: str
    broker_problem: str | None
    components: list[ComponentStatus] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        found = []
        if self.broker_problem:
            found.append(f"the Celery broker ({self.broker}) is unreachable: {self.broker_problem}")
        found += [f"{c.name} is {c.state}" + (f" ({c.detail})" if c.detail else "")
                  for c in self.components if c.state != "up"]
        if self.phase != "ready":
            found.append(f"the stack is {self.phase}")
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        verdict = "ready" if self.ok else f"NOT READY ({self.phase})" if self.phase != "ready" else "DEGRADED"
        out = [f"Services stack {verdict}: {self.url}  (supervisor pid {self.supervisor_pid})"]
        broker = "up" if not self.broker_problem else f"DOWN: {self.broker_problem}"
        out.append(f"  {'broker':<14} {self.broker:<31} {broker}")
        for c in self.components:
            state = c.state if c.state == "up" else c.state.upper()
            pid = f"pid {c.pid}" if c.pid else "no process"
            out.append(f"  {c.name:<14} {pid:<12} {state:<9} restarts {c.restarts}" + (f"  {c.detail}" if c.detail else ""))
        for problem in self.problems:
            out.append(f"  problem: {problem}")
        return out


def broker_problem(url: str, timeout_s: float = 2.0) -> str | None:
    """Why the Redis broker at ``url`` does not answer a ping, or None when it does."""
    import redis

    from dataops.local.services.preflight import driver_problem

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        client.ping()
        return None
    except redis.RedisError as exc:
        return driver_problem(exc)
    finally:
        client.close()


def stack_status(config: ServicesConfig, state: StackState, health: dict | None) -> StackStatus:
    """The stack as it is now; ``health`` is Airflow's /api/v2/monitor/health answer (None: no answer)."""
    broker_down = broker_problem(config.redis.url)
    by_component = {component: (health or {}).get(key) or {} for key, component in HEALTH_COMPONENTS.items()}
    statuses = []
    for name, record in state.components.items():
        if not record.alive():
            detail = "restarting" + (f" after exit code {record.last_exit}" if record.last_exit is not None else "")
            statuses.append(ComponentStatus(name, 0, record.restarts, "down", detail))
            continue
        status = ComponentStatus(name, record.pid, record.restarts, "up")
        if name == "api-server" and health is None:
            status.state, status.detail = "unhealthy", f"no answer from {config.health_url}"
        elif name == "api-server" and (health.get("metadatabase") or {}).get("status") != "healthy":
            status.state, status.detail = "unhealthy", "Airflow's metadata database is unhealthy"
        elif name in by_component and health is not None and by_component[name].get("status") != "healthy":
            beat = _heartbeat(by_component[name])
            status.state, status.detail = "unhealthy", "Airflow reports no recent heartbeat" + (f" (last {beat})" if beat else "")
        elif name.startswith("worker-") and broker_down:
            status.state, status.detail = "unhealthy", "waiting for the broker"
        statuses.append(status)
    return StackStatus(
        phase=state.phase, url=state.url, supervisor_pid=state.supervisor.pid,
        broker=f"Redis at {config.redis.address}", broker_problem=broker_down, components=statuses,
    )


def _heartbeat(report: dict) -> str:
    for key in ("latest_scheduler_heartbeat", "latest_triggerer_heartbeat", "latest_dag_processor_heartbeat"):
        if report.get(key):
            return str(report[key])
    return ""
