# The platform's Airflow plugin, as Airflow's plugins folder loads it: the Airflow
# image copies this folder to /opt/airflow/plugins, the local stacks set [core]
# plugins_folder to it. The plugin itself is dataops.airflow.ui.plugin.
from dataops.airflow.ui.plugin import DataOpsPlugin

__all__ = ["DataOpsPlugin"]
