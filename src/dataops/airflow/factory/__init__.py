"""Build Airflow DAGs from a compiled dbt project."""

from dataops.airflow.factory.dag import DbtDag, add_dbt_tasks, load_graph

__all__ = ["DbtDag", "add_dbt_tasks", "load_graph"]
