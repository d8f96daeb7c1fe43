"""The triggerer queues no success callback request (dataops.airflow.triggerer_callbacks): the DAG
processor would parse the DAG file for it and do nothing. Failure and retry requests are queued.

The requests go through Airflow's own sink into the metadata database (the tests' SQLite file).
The end-to-end stack's 200-model run shows the DAG processor no longer parses the DAG for them
(test_e2e.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from dataops.airflow import triggerer_callbacks


def test_the_fix_applies_to_the_pinned_airflow():
    """Fails naming what changed when the pinned Airflow's code differs from what the fix relies on."""
    assert triggerer_callbacks.changed_internals() == []


@pytest.fixture
def queued() -> Iterator:
    """The callback requests queued in the metadata database, read back; Airflow's sink put back afterwards."""
    from airflow.callbacks.database_callback_sink import DatabaseCallbackSink
    from airflow.models import import_all_models
    from airflow.models.base import Base
    from airflow.models.db_callback_request import DbCallbackRequest
    from sqlalchemy import create_engine, select

    from airflow import settings

    import_all_models()
    engine = create_engine(settings.SQL_ALCHEMY_CONN)
    Base.metadata.create_all(engine)
    send = DatabaseCallbackSink.send

    def read() -> list[str | None]:
        with settings.Session() as session:
            return [row.get_callback_request().task_callback_type for row in session.scalars(select(DbCallbackRequest))]
    try:
        yield read
    finally:
        DatabaseCallbackSink.send = send
        Base.metadata.drop_all(engine)


def _request(state: str):
    from airflow.api_fastapi.execution_api.datamodels.taskinstance import TaskInstance
    from airflow.callbacks.callback_requests import TaskCallbackRequest

    ti = TaskInstance(id=uuid.uuid4(), task_id="stg_orders", dag_id="many_models", run_id="manual_1",
                      try_number=1, dag_version_id=uuid.uuid4())
    return TaskCallbackRequest(filepath="many_models.py", ti=ti, task_callback_type=state, bundle_name="dags-folder",
                               bundle_version=None)


def _send(request) -> None:
    from airflow.callbacks.database_callback_sink import DatabaseCallbackSink

    from airflow import settings

    with settings.Session() as session:
        DatabaseCallbackSink().send(request, session=session)
        session.commit()


def test_a_success_request_is_dropped_and_failure_and_retry_requests_are_queued(queued):
    _send(_request("success"))
    assert queued() == ["success"], "without the fix, Airflow queues it"

    assert triggerer_callbacks.patch() and triggerer_callbacks.patch()
    for state in ("success", "failed", "up_for_retry"):
        _send(_request(state))
    assert queued() == ["success", "failed", "up_for_retry"]


def test_only_what_the_dag_processor_ignores_is_dropped():
    ignored = {s: triggerer_callbacks.ignored_by_the_dag_processor(_request(s))
               for s in ("success", "skipped", "failed", "up_for_retry", "upstream_failed")}
    assert ignored == {"success": True, "skipped": True, "failed": False, "up_for_retry": False,
                       "upstream_failed": False}
    assert not triggerer_callbacks.ignored_by_the_dag_processor(object())


def test_another_airflow_keeps_its_sink(monkeypatch, queued):
    from airflow.callbacks.database_callback_sink import DatabaseCallbackSink

    monkeypatch.setitem(triggerer_callbacks.RELIES_ON, next(iter(triggerer_callbacks.RELIES_ON)), "0" * 64)
    send = DatabaseCallbackSink.send
    assert not triggerer_callbacks.patch()
    assert DatabaseCallbackSink.send is send
    _send(_request("success"))
    assert queued() == ["success"]


def test_the_upstream_patch_applies_to_the_pinned_airflow(tmp_path):
    """patches/airflow-triggerer-no-success-callback-request.patch is the same change written for Airflow."""
    from airflow.models import trigger
    from upstream_patch import assert_applies

    assert_applies("airflow-triggerer-no-success-callback-request.patch", trigger,
                   "airflow-core/src/airflow/models/trigger.py", tmp_path)
