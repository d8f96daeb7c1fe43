"""The Execution API built for the Task SDK's own version alone (dataops.airflow.one_version_api):
the triggerer's in-process one, and a local stack's API server's.

The Task SDK's real client talks to the triggerer's app through its in-process transport, as the
trigger runner's requests reach it in the triggerer; the API server's app is the one Airflow's
own factory creates.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from dataops.airflow import one_version_api


@pytest.mark.parametrize("process", [one_version_api.TRIGGERER_MODULE, one_version_api.API_SERVER_MODULE])
def test_the_fix_applies_to_the_pinned_airflow(process):
    """Fails naming what changed when the pinned Airflow's code differs from what the fix relies on."""
    assert one_version_api.changed_internals(process) == []


@pytest.fixture(scope="module")
def client() -> Iterator[SimpleNamespace]:
    from airflow.models import import_all_models
    from airflow.models.base import Base
    from airflow.sdk.api.client import Client
    from sqlalchemy import create_engine

    from airflow import settings

    # The XCom route reads the metadata database: Airflow's tables, in the tests' SQLite file
    # for as long as this module runs.
    import_all_models()
    engine = create_engine(settings.SQL_ALCHEMY_CONN)
    Base.metadata.create_all(engine)
    api = one_version_api.one_version_api()
    sdk = Client(base_url=None, token="", dry_run=True, transport=api.transport)
    sdk.base_url = "http://in-process.invalid./"
    try:
        yield SimpleNamespace(api=api, sdk=sdk)
    finally:
        Base.metadata.drop_all(engine)


def test_the_app_serves_the_task_sdks_version_and_only_that(client):
    from airflow.sdk.api.datamodels._generated import API_VERSION

    assert [v.value for v in client.api.app.versions.versions] == [API_VERSION]
    health = client.sdk.get("health")
    assert health.status_code == 200, health.text
    assert health.request.headers["airflow-api-version"] == API_VERSION


def test_a_request_reaches_the_database_through_the_versioned_route(client):
    from airflow.sdk.api.client import ServerResponseError

    with pytest.raises(ServerResponseError) as raised:
        client.sdk.get("xcoms/a_dag/a_run/a_task/a_key")
    assert raised.value.response.status_code == 404
    assert "XCom with key='a_key'" in raised.value.response.text, raised.value.response.text


def test_airflows_own_versions_and_routes_are_left_as_they_were(client):
    from cadwyn.route_generation import _DELETED_ROUTE_TAG

    from airflow.api_fastapi.execution_api import routes, versions

    assert len(versions.bundle.versions) > 1
    assert any(_DELETED_ROUTE_TAG in (getattr(r, "tags", None) or ()) for r in routes.execution_api_router.routes)


def test_the_triggerers_factory_is_replaced_once():
    module = SimpleNamespace(in_process_api_server=lambda: "airflow's")
    assert one_version_api.patch(module) and one_version_api.patch(module)
    assert module.in_process_api_server.__wrapped__() == "airflow's"
    assert getattr(module.in_process_api_server, one_version_api._PATCHED)


def test_a_task_sdk_of_another_version_keeps_airflows_api(monkeypatch):
    monkeypatch.setattr(one_version_api, "sdk_api_version", lambda: "2025-04-11")
    found = one_version_api.changed_internals()
    assert found and "2025-04-11" in found[0], found
    module = SimpleNamespace(in_process_api_server=lambda: "airflow's")
    assert not one_version_api.patch(module)
    assert module.in_process_api_server() == "airflow's"


def test_the_api_servers_execution_api_serves_the_task_sdks_version_and_only_that(monkeypatch):
    from airflow.api_fastapi import app as api_server
    from airflow.sdk.api.datamodels._generated import API_VERSION
    from fastapi.testclient import TestClient

    every_version = api_server.create_task_execution_api_app
    monkeypatch.setattr(api_server, "create_task_execution_api_app", every_version)  # put back afterwards
    assert one_version_api.patch_api_server(api_server) and one_version_api.patch_api_server(api_server)
    assert api_server.create_task_execution_api_app.__wrapped__ is every_version

    app = api_server.create_app(apps="execution")
    (execution,) = [route.app for route in app.routes if getattr(route, "path", "") == "/execution"]
    assert [v.value for v in execution.versions.versions] == [API_VERSION]
    health = TestClient(app).get("/execution/health", headers={"Airflow-API-Version": API_VERSION})
    assert health.status_code == 200, health.text


def test_a_task_sdk_of_another_version_keeps_the_api_servers_every_version(monkeypatch):
    monkeypatch.setattr(one_version_api, "sdk_api_version", lambda: "2025-04-11")
    module = SimpleNamespace(create_task_execution_api_app=lambda: "airflow's")
    assert not one_version_api.patch_api_server(module)
    assert module.create_task_execution_api_app() == "airflow's"


@pytest.mark.parametrize(("variable", "patched"), [
    ("true", [one_version_api.TRIGGERER_MODULE, one_version_api.API_SERVER_MODULE]),
    (None, [one_version_api.TRIGGERER_MODULE]),
])
def test_the_api_server_is_patched_only_in_a_local_stack(monkeypatch, variable, patched):
    """Set by the local stacks (dataops.local.airflow_env); the image's API server keeps every
    version, for workers of another image during an upgrade."""
    from dataops.airflow import patching

    hooked = []
    monkeypatch.setattr(patching, "on_import", lambda module, callback: hooked.append(module))
    if variable is None:
        monkeypatch.delenv(one_version_api.LOCAL_STACK_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(one_version_api.LOCAL_STACK_VARIABLE, variable)
    one_version_api.install()
    assert hooked == patched


def test_the_local_stacks_set_it_for_their_airflow_processes(tmp_path):
    from dataops.local.airflow_env import DagSource, airflow_env

    env = airflow_env({}, home=tmp_path, dags=DagSource(), api_port=8080, passwords_file=tmp_path / "p",
                      state_dir=tmp_path, dbt_env={})
    assert env[one_version_api.LOCAL_STACK_VARIABLE] == "true"
