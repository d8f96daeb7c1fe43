"""Where the dbt docs site of a DAG run is: the code version that ran, never a newer one.

- A run of a published bundle (its DAG bundle is ``PublishedDagBundle`` and
  the run has a ``bundle_version``): the site built into that version at
  publish time (``dbt/target`` of the bundle), read from the bundle store, S3
  (boto3, ``DATAOPS_S3_ENDPOINT_URL`` or the bundle's AWS connection) or a
  folder, and kept in a local cache folder, one per version (a version never
  changes).
- A run of DAG files as they are on disk (a local stack's worktree mode): the
  site beside the project's compiled graph (``<project>/target``), which
  ``dataops dbt manifest`` and the local stacks build with each compile.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

from dataops.airflow.bundle import open_bundle_store
from dataops.dbt.docs import DOCS_FILES, has_docs

PUBLISHED_BUNDLE_CLASS = "dataops.airflow.bundle.PublishedDagBundle"
_lock = threading.Lock()


class DocsNotFound(Exception):
    """Why a run has no docs site to show, in words for the page."""


def cache_dir() -> Path:
    """Where fetched versions are kept (``DATAOPS_DOCS_CACHE``, else a folder under the system's temp)."""
    return Path(os.environ.get("DATAOPS_DOCS_CACHE") or Path(tempfile.gettempdir()) / "dataops-docs")


def published_store(bundle_name: str | None) -> tuple[str, str | None] | None:
    """(store location, AWS connection) of ``bundle_name`` when it is a published-bundle DAG bundle."""
    from airflow.configuration import conf

    try:
        bundles = json.loads(conf.get("dag_processor", "dag_bundle_config_list", fallback="[]") or "[]")
    except ValueError:
        return None
    for bundle in bundles:
        if bundle.get("name") == bundle_name and bundle.get("classpath") == PUBLISHED_BUNDLE_CLASS:
            kwargs = bundle.get("kwargs") or {}
            return kwargs.get("store"), kwargs.get("aws_conn_id")
    return None


def site_for(bundle_name: str | None, bundle_version: str | None, project_dir: str | None) -> Path:
    """The folder holding ``index.html``, ``manifest.json`` and ``catalog.json``; DocsNotFound saying why not."""
    store = published_store(bundle_name)
    if store is not None and bundle_version:
        return _published_site(store[0], store[1], bundle_version)
    if not project_dir:
        raise DocsNotFound("this run has no dbt report yet (its dbt_build task has not started)")
    target = Path(project_dir) / "target"
    if not has_docs(target):
        raise DocsNotFound(
            f"no dbt docs site in {target}: run `dataops dbt manifest --project-dir {project_dir}` "
            "(it builds the site with the graph)"
        )
    return target


def _published_site(location: str, aws_conn_id: str | None, version: str) -> Path:
    from dataops.delivery.fetch import fetch_bundle

    folder = cache_dir() / _safe(location) / version
    target = folder / "dbt" / "target"
    with _lock:
        if not folder.exists():
            fetch_bundle(open_bundle_store(location, aws_conn_id), version, folder)
    if not has_docs(target):
        raise DocsNotFound(
            f"bundle {version} in {location} has no dbt docs site (published before bundles carried one); "
            f"it holds {', '.join(sorted(p.name for p in target.iterdir())) if target.is_dir() else 'no dbt/target'}"
        )
    return target


def _safe(location: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in location)


def docs_file(site: Path, name: str) -> Path:
    """One of the site's files (nothing else is served from the folder)."""
    if name not in DOCS_FILES:
        raise DocsNotFound(f"{name!r} is not part of dbt's docs site ({', '.join(DOCS_FILES)})")
    return site / name
