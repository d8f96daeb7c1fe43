"""The TICKIT transformations: the dbt project in analytics/dbt as one task
per model (tests attached), built by one dbt process per run against the
configured warehouse (DuckDB locally, PostgreSQL or Redshift), on the worker
or on ECS Fargate (DATAOPS_DBT_EXECUTOR).

The DAG is read from the project's compiled graph; after changing the dbt
project, run `dataops dbt manifest`. The name is the seed platform's, kept
so its users find it.
"""

from datetime import datetime

from dataops.airflow.factory import DbtDag

dag = DbtDag(
    dag_id="redshift_transformations",
    description="Build and test the TICKIT dbt models, one task per model",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["dbt", "tickit"],
    doc_md=__doc__,
)
