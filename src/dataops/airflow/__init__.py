"""Airflow integration: the DAG factory, its operators and triggers, and where dbt runs (executors).

Importing this package must stay cheap: DAG files import it at parse time.
"""
