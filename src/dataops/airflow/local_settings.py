"""What every Airflow process of the platform loads at start.

Airflow imports ``airflow_local_settings`` from its home's ``config`` folder
in every process it starts (scheduler, triggerer, DAG processor, API server,
workers, task processes). The platform's (written into each local stack's
home by ``dataops.local.airflow_env.write_local_settings``, and
``infra/images/airflow/airflow_local_settings.py`` in the image) imports this
module. Importing it stays cheap: the fixes to the triggerer patch its module
when it is imported, which only the triggerer does, and the API server's fix
its own module (dataops.airflow.patching).
"""

from dataops.airflow import (
    fork_sharing, one_version_api, triggerer_callbacks, triggerer_comms, triggerer_logs, triggerer_pace,
    triggerer_workloads,
)

# The triggerer's work per model task does not grow with the DAG's size.
triggerer_workloads.install()
# Nor does the triggerer stall when a reply to its runner outgrows a socket's buffer.
triggerer_comms.install()
# Nor does it drop a finished trigger's last log records (dbt's time in a model task's log).
triggerer_logs.install()
# Nor does it (nor a local stack's API server) build the Execution API for every API version at each start.
one_version_api.install()
# Nor does it queue success callback requests, for which the DAG processor parses a DAG file and does nothing.
triggerer_callbacks.install()
# Nor does it query for its triggers on every message its trigger process sends.
triggerer_pace.install()
# And the triggerer's runner and the LocalExecutor's workers keep sharing the memory they were forked with.
fork_sharing.install()
