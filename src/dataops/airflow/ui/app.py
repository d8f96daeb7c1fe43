"""The plugin's FastAPI app, mounted at ``/dataops`` in Airflow's API server.

Pages (what the UI's external views open) and the same data as JSON:

- ``/dataops/timeline/{dag_id}/{run_id}`` and ``/dataops/api/timeline/...``:
  one run as dbt saw it (dataops.runs.timeline);
- ``/dataops/history/{dag_id}?runs=N`` and ``/dataops/api/history/...``: the
  models over the last N runs (dataops.runs.history);
- ``/dataops/docs/{dag_id}/{run_id}/``: dbt's docs site of the code version
  that run used (``latest`` for the DAG's latest run; docs_site.py).

Every route asks Airflow's auth manager whether the caller may read the DAG,
with the UI's own sign-in (its token cookie, or a bearer token).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import requires_access_dag

from dataops.airflow.ui import reader
from dataops.airflow.ui.docs_site import DocsNotFound, docs_file, site_for
from dataops.runs.history import history
from dataops.runs.pages import docs_missing_page, history_page, timeline_page
from dataops.runs.timeline import timeline

from dataops.airflow.ui.plugin import PREFIX
DEFAULT_RUNS = 20
MAX_RUNS = 500

app = FastAPI(
    title="dataops: dbt in Airflow",
    description="dbt's view of each DAG run, the models' history, dbt docs",
    docs_url="/api/docs",
    redoc_url=None,
    openapi_url="/api/openapi.json",
)
can_read = [Depends(requires_access_dag("GET"))]


def _timeline(session, dag_id: str, run_id: str) -> dict:
    if run_id == "latest":
        run_id = reader.latest_run_id(session, dag_id) or run_id
    record = reader.run_record(session, dag_id, run_id)
    if record is None:
        raise HTTPException(404, f"DAG {dag_id!r} has no run {run_id!r}")
    if not record.nodes:
        raise HTTPException(404, f"run {run_id!r} of {dag_id!r} has no dbt results (yet): its dbt_build task "
                                 "has not reported a node, or the DAG is not made with DbtDag")
    return timeline(record)


def _history(session, dag_id: str, runs: int) -> dict:
    return history(dag_id, reader.latest_records(session, dag_id, runs))


@app.get("/api/timeline/{dag_id}/{run_id}", dependencies=can_read)
def timeline_json(dag_id: str, run_id: str, session: SessionDep) -> dict:
    """One run as dbt saw it: bars from dbt's start and end times, the critical path, the slowest models."""
    return _timeline(session, dag_id, run_id)


@app.get("/api/history/{dag_id}", dependencies=can_read)
def history_json(dag_id: str, session: SessionDep, runs: int = Query(DEFAULT_RUNS, ge=1, le=MAX_RUNS)) -> dict:
    """Each model's dbt duration and outcome over the last ``runs`` runs, and the regressions."""
    return _history(session, dag_id, runs)


@app.get("/timeline/{dag_id}/{run_id}", response_class=HTMLResponse, dependencies=can_read)
def timeline_html(dag_id: str, run_id: str, session: SessionDep) -> str:
    data = _timeline(session, dag_id, run_id)
    return timeline_page(data, {
        "history of the models": f"{PREFIX}/history/{dag_id}",
        "dbt docs": f"{PREFIX}/docs/{dag_id}/{data['run_id']}/",
        "JSON": f"{PREFIX}/api/timeline/{dag_id}/{data['run_id']}",
    })


@app.get("/history/{dag_id}", response_class=HTMLResponse, dependencies=can_read)
def history_html(dag_id: str, session: SessionDep, runs: int = Query(DEFAULT_RUNS, ge=1, le=MAX_RUNS)) -> str:
    data = _history(session, dag_id, runs)
    latest = data["runs"][-1]["run_id"] if data["runs"] else None
    links = {"JSON": f"{PREFIX}/api/history/{dag_id}?runs={runs}"}
    if latest:
        links["latest run's timeline"] = f"{PREFIX}/timeline/{dag_id}/{latest}"
    return history_page(data, links)


@app.get("/docs/{dag_id}/{run_id}", dependencies=can_read, include_in_schema=False)
def docs_root(dag_id: str, run_id: str):
    # dbt's page loads manifest.json and catalog.json relative to itself: it needs the trailing slash.
    return RedirectResponse(f"{PREFIX}/docs/{dag_id}/{run_id}/")


@app.get("/docs/{dag_id}/{run_id}/", dependencies=can_read)
@app.get("/docs/{dag_id}/{run_id}/{name}", dependencies=can_read)
def docs(dag_id: str, run_id: str, session: SessionDep, name: str = "index.html"):
    """dbt's docs site of the code version the run used."""
    if run_id == "latest":
        run_id = reader.latest_run_id(session, dag_id) or run_id
    run, report = reader.run_report(session, dag_id, run_id)
    if run is None:
        raise HTTPException(404, f"DAG {dag_id!r} has no run {run_id!r}")
    bundle_name = run.dag_model.bundle_name if run.dag_model is not None else None
    try:
        path = docs_file(site_for(bundle_name, run.bundle_version, (report or {}).get("project_dir")), name)
    except DocsNotFound as exc:
        if name == "index.html":
            return HTMLResponse(docs_missing_page(dag_id, run_id, str(exc)), status_code=404)
        raise HTTPException(404, str(exc)) from None
    return FileResponse(path, media_type="text/html" if name.endswith(".html") else "application/json")
