"""Airflow's local settings in the platform image (/opt/airflow/config, on Airflow's path).

The metadata database's password rotates in Secrets Manager; these engine factories
sign every new connection in with the current one (dataops.aws.metadata_db). The
platform's fixes to Airflow load in every process, as on a local stack
(dataops.airflow.local_settings).
"""

import dataops.airflow.local_settings  # noqa: F401
from dataops.aws.metadata_db import create_async_metadata_engine, create_metadata_engine

__all__ = ["create_async_metadata_engine", "create_metadata_engine"]
