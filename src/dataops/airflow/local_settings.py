"""What every Airflow process of the platform loads at start.

Airflow imports ``airflow_local_settings`` from its home's ``config`` folder
in every process it starts (scheduler, triggerer, DAG processor, API server,
workers, task processes). The platform's (written into each local stack's
home by ``dataops.local.airflow_env.write_local_settings``, and
``infra/images/airflow/airflow_local_settings.py`` in the image) imports this
module. Importing it stays cheap: it patches only the triggerer's module,
when that is imported (``dataops.airflow.triggerer_workloads``).
"""

from dataops.airflow import triggerer_workloads

triggerer_workloads.install()
