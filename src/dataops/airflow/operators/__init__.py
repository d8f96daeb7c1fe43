from dataops.airflow.operators.dbt import DbtBuildOperator

__all__ = ["DbtBuildOperator"]
