"""The TICKIT transformations: the dbt project in analytics/dbt, run on a
schedule against the configured warehouse (DuckDB locally, Redshift on AWS).

The name is the seed platform's, kept so its users find it.
"""

from datetime import datetime

from airflow.sdk import DAG

from dataops.airflow.operators import DbtBuildOperator

with DAG(
    dag_id="redshift_transformations",
    description="Build and test the TICKIT dbt models",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["dbt", "tickit"],
    doc_md=__doc__,
) as dag:
    DbtBuildOperator(task_id="dbt_build")
