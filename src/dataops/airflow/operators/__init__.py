from dataops.airflow.operators.node import DbtNodeOperator, DbtSummaryOperator
from dataops.airflow.operators.producer import DbtProducerOperator

__all__ = ["DbtNodeOperator", "DbtProducerOperator", "DbtSummaryOperator"]
