"""The platform's Airflow plugin (Airflow 3's plugin interface: a FastAPI app and external views).

Installed the way the image installs it: the Airflow image copies
``plugins_folder/dataops_plugin.py`` into ``/opt/airflow/plugins`` and the
local stacks point ``[core] plugins_folder`` at that same folder; the file
imports this class.

Every Airflow process loads plugins, each task's process too; this module
imports neither FastAPI nor the pages: the app is built on the API server's
first request to it (``LazyApp``), so a task pays nothing for the UI.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

PREFIX = "/dataops"


class LazyApp:
    """An ASGI app that imports and builds dataops.airflow.ui.app when it is first called."""

    def __init__(self):
        self._app = None

    async def __call__(self, scope, receive, send):
        if self._app is None:
            from dataops.airflow.ui.app import app

            self._app = app
        await self._app(scope, receive, send)


class DataOpsPlugin(AirflowPlugin):
    name = "dataops"
    fastapi_apps = [{"app": LazyApp(), "url_prefix": PREFIX, "name": "dataops: dbt timeline, history and docs"}]
    external_views = [
        {
            "name": "dbt timeline",
            "href": PREFIX + "/timeline/{DAG_ID}/{RUN_ID}",
            "destination": "dag_run",
            "url_route": "dbt-timeline",
        },
        {
            "name": "dbt docs",
            "href": PREFIX + "/docs/{DAG_ID}/{RUN_ID}/",
            "destination": "dag_run",
            "url_route": "dbt-docs-run",
        },
        {
            "name": "dbt history",
            "href": PREFIX + "/history/{DAG_ID}",
            "destination": "dag",
            "url_route": "dbt-history",
        },
        {
            "name": "dbt docs",
            "href": PREFIX + "/docs/{DAG_ID}/latest/",
            "destination": "dag",
            "url_route": "dbt-docs",
        },
    ]
