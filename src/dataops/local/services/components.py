"""The processes that make up the stack, in start order."""

from __future__ import annotations

from dataclasses import dataclass

from dataops.local.airflow_env import airflow_argv
from dataops.local.services.config import ServicesConfig


@dataclass(frozen=True)
class Component:
    name: str
    argv: tuple[str, ...]


def _airflow(*args: str) -> tuple[str, ...]:
    return tuple(airflow_argv(*args))


def components(config: ServicesConfig) -> list[Component]:
    # Every component logs to its own file in one folder, and all of them share
    # the local log folder, so nothing needs to serve logs over a port.
    found = [
        Component("api-server", _airflow("api-server", "--host", "127.0.0.1", "--port", str(config.api_port))),
        Component("scheduler", _airflow("scheduler")),
        Component("dag-processor", _airflow("dag-processor")),
        Component("triggerer", _airflow("triggerer", "--skip-serve-logs")),
    ]
    for n in range(1, config.workers + 1):
        found.append(
            Component(
                f"worker-{n}",
                _airflow(
                    "celery", "worker", "--skip-serve-logs",
                    "--concurrency", str(config.worker_concurrency),
                    # Several workers on one host need distinct Celery node names.
                    "--celery-hostname", f"worker-{n}-{config.api_port}@%h",
                ),
            )
        )
    return found
