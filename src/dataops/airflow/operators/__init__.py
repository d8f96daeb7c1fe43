from dataops.airflow.operators.dbt import DbtBuildOperator
from dataops.airflow.operators.node import DbtNodeOperator, DbtSummaryOperator
from dataops.airflow.operators.producer import DbtProducerOperator

__all__ = ["DbtBuildOperator", "DbtNodeOperator", "DbtProducerOperator", "DbtSummaryOperator"]
