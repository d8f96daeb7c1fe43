"""Airflow integration: operators that run dbt, and (later) the DAG factory.

Importing this package must stay cheap: DAG files import it at parse time.
"""
