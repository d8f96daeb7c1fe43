"""Airflow reads the analytics DAGs from published bundles, one version per run.

Configure it as an Airflow DAG bundle::

    [dag_processor]
    dag_bundle_config_list = [{"name": "analytics",
        "classpath": "dataops.airflow.bundle.PublishedDagBundle",
        "kwargs": {"store": "s3://my-bucket/bundles", "refresh_interval": 30}}]

``store`` is a bundle store (``dataops.delivery.store``): ``s3://bucket/prefix``
or a local folder. On S3 the client is the amazon provider's ``S3Hook`` when
``aws_conn_id`` is given, else boto3 with the platform's ``DATAOPS_S3_*``
settings (the task role on AWS, any endpoint in tests).

The DAG processor's copy follows the store's current version: each refresh
reads the pointer and, when it moved, fetches that version (verified, see
``dataops.delivery.fetch``) into a folder of its own, ``latest/<version>``;
:attr:`path` then names it, so every file Airflow reads at once comes from
one version. Airflow records that version with each DAG run; a worker asks
for the run's version and gets ``versions/<version>``, fetched once per
machine and kept while Airflow's stale-bundle cleanup allows. So a run built
by one dbt process reads the DAG files, the dbt project and its graph of the
version it started with, whatever is published meanwhile.

A version that cannot be fetched (damaged, deleted, store unreachable) is
logged once with the error naming it, and the previous version stays served.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

from airflow.dag_processing.bundles.base import BaseDagBundle, BundleVersion

from dataops.delivery.bundle import DAGS, short
from dataops.delivery.errors import DeliveryError
from dataops.delivery.fetch import fetch_bundle
from dataops.delivery.store import BundleStore

log = logging.getLogger(__name__)

# Versions of the DAG processor's copy kept on disk: the current one, and the
# previous ones a parse started just before a refresh may still be reading.
_LATEST_KEPT = 3


class PublishedDagBundle(BaseDagBundle):
    """The DAG files of the store's published bundles, versioned (see the module's docstring)."""

    supports_versioning = True

    def __init__(self, *, store: str, aws_conn_id: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.store_location = store
        self.aws_conn_id = aws_conn_id
        self._store: BundleStore | None = None
        # The version at self.path (the DAG processor's copy); None before the first fetch.
        self._current: str | None = None
        # The last version that could not be fetched: not retried until the pointer moves.
        self._refused: str | None = None

    # -- where the files are ----------------------------------------------

    @property
    def path(self) -> Path:
        if self.version:
            return self.versions_dir / self.version / DAGS
        if self._current:
            return self._latest_dir / self._current / DAGS
        return self.base_dir / "empty"

    @property
    def _latest_dir(self) -> Path:
        return self.base_dir / "latest"

    def get_current_version(self) -> BundleVersion | None:
        version = self.version or self._current
        return BundleVersion(version) if version else None

    # -- getting them ------------------------------------------------------

    @property
    def store(self) -> BundleStore:
        if self._store is None:
            self._store = open_bundle_store(self.store_location, self.aws_conn_id)
        return self._store

    def initialize(self) -> None:
        if self.version:
            # A run's version: fetch_bundle is safe for concurrent callers (it renames a finished copy in).
            fetch_bundle(self.store, self.version, self.versions_dir / self.version)
        else:
            self.base_dir.mkdir(parents=True, exist_ok=True)
            (self.base_dir / "empty").mkdir(exist_ok=True)
            self.refresh()
        super().initialize()

    def refresh(self) -> None:
        if self.version:
            raise ValueError(f"bundle {self.name}: a run's version ({short(self.version)}) never changes; nothing to refresh")
        with self.lock():
            try:
                pointer, _ = self.store.read_pointer()
            except DeliveryError as exc:
                log.error("bundle %s: cannot read the current version (%s); still serving %s", self.name, exc, self._serving())
                return
            target = pointer.version if pointer else None
            if target is None or target in (self._current, self._refused):
                return
            try:
                info = fetch_bundle(self.store, target, self._latest_dir / target)
            except DeliveryError as exc:
                self._refused = target
                log.error("bundle %s: version %s refused: %s Still serving %s.", self.name, short(target), exc, self._serving())
                return
            log.info("bundle %s: now serving version %s (commit %s)", self.name, short(target), info.commit[:7])
            _touch_dag_files(self._latest_dir / target / DAGS)
            self._current = target
            self._remove_old_copies()

    def _serving(self) -> str:
        return f"version {short(self._current)}" if self._current else "no version"

    def _remove_old_copies(self) -> None:
        copies = sorted(
            (p for p in self._latest_dir.iterdir() if p.is_dir() and not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
        )
        for old in copies[:-_LATEST_KEPT]:
            if old.name != self._current:
                shutil.rmtree(old, ignore_errors=True)

    def __repr__(self) -> str:
        return f"PublishedDagBundle(name={self.name!r}, store={self.store_location!r}, version={self.version!r})"


def _touch_dag_files(dags: Path) -> None:
    """Mark a new version's DAG files as just changed.

    A bundle's files carry fixed times (``dataops.delivery.bundle``), and the
    DAG processor parses a known file again before ``min_file_process_interval``
    only when its modification time is newer than its last parse. Without this
    a new version would go live only at that interval (30 s by default).
    """
    now = time.time()
    for path in dags.rglob("*"):
        if path.is_file():
            os.utime(path, (now, now))


def open_bundle_store(location: str, aws_conn_id: str | None = None) -> BundleStore:
    """The store at ``location``; on S3 through ``S3Hook(aws_conn_id)`` when a connection is named."""
    if location.startswith("s3://") and aws_conn_id:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        from dataops.delivery.store import S3BundleStore

        bucket, _, prefix = location[len("s3://") :].partition("/")
        return S3BundleStore(bucket, prefix, S3Hook(aws_conn_id=aws_conn_id).get_conn())
    from dataops.delivery.settings import DeliverySettings
    from dataops.delivery.settings import open_bundle_store as open_configured

    return open_configured(delivery=DeliverySettings(store=location))
