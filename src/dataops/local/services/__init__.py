"""The production-like local stack: Airflow's components as supervised processes.

PostgreSQL holds Airflow's metadata and stands in for Redshift as the
warehouse; Redis is the Celery broker. Each component (API server, scheduler,
DAG processor, triggerer, Celery workers) runs as its own process group,
watched and restarted by a supervisor that records what it started in a state
file, so ``dataops down`` from another shell stops exactly those processes.
"""

from dataops.local.services.config import PostgresServer, RedisServer, ServicesConfig

__all__ = ["PostgresServer", "RedisServer", "ServicesConfig"]
