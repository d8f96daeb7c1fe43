"""The triggerer's in-process Execution API, built for the Task SDK's own version alone.

The Task SDK's real client talks to the app through its in-process transport, as the
trigger runner's requests reach it in the triggerer (dataops.airflow.triggerer_api).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from dataops.airflow import triggerer_api


def test_the_fix_applies_to_the_pinned_airflow():
    """Fails naming what changed when the pinned Airflow's code differs from what the fix relies on."""
    assert triggerer_api.changed_internals() == []


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
    api = triggerer_api.one_version_api()
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
    assert triggerer_api.patch(module) and triggerer_api.patch(module)
    assert module.in_process_api_server.__wrapped__() == "airflow's"
    assert getattr(module.in_process_api_server, triggerer_api._PATCHED)


def test_a_task_sdk_of_another_version_keeps_airflows_api(monkeypatch):
    monkeypatch.setattr(triggerer_api, "sdk_api_version", lambda: "2025-04-11")
    found = triggerer_api.changed_internals()
    assert found and "2025-04-11" in found[0], found
    module = SimpleNamespace(in_process_api_server=lambda: "airflow's")
    assert not triggerer_api.patch(module)
    assert module.in_process_api_server() == "airflow's"
