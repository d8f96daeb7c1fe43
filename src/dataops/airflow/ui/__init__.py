"""The platform's Airflow 3 plugin: dbt's view of each run, the models' history, dbt docs.

``plugin.DataOpsPlugin`` mounts a FastAPI app (``app.py``) under ``/dataops``
in Airflow's API server and adds external views to the UI: "dbt timeline"
and "dbt docs" on each DAG run, "dbt history" on each DAG. The pages read
Airflow's metadata database (``reader.py``) and draw with ``dataops.runs``.
"""
