"""dataops: dbt models orchestrated by Apache Airflow, on one machine or on AWS."""

__version__ = "0.1.0"
