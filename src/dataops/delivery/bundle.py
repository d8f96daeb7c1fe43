"""A bundle: one immutable, content-addressed copy of the analytics side of a commit.

This module is the format (what a bundle holds, its digest, its archive) and
needs nothing beyond the standard library, so the dbt image can verify a
bundle without the platform's settings; building one is ``dataops.delivery.build``.

Layout (the same in the archive and in a fetched folder)::

    bundle.json                      BundleInfo: commit, author, time, digest, versions
    dags/...                         analytics/dags at the commit
    dbt/...                          analytics/dbt at the commit
    dbt/target/dataops_graph.json    the graph artifact DAG files read
    dbt/target/manifest.json         dbt's manifest (for state comparison)

The version of a bundle is its digest: SHA-256 over the bundle's files
(``bundle.json`` aside) in sorted path order, each as its path and the
SHA-256 of its bytes. It depends on the contents only: not on tar bytes,
modification times or the order files were written. dbt stamps every
manifest with times and an invocation id; those are fixed to constants
(:func:`normalize_manifest`) so that rebuilding a commit gives the same
digest, and the same archive bytes (:func:`write_archive`).

Files in the archive carry fixed modification times: the project's files
:data:`SOURCE_MTIME`, the compiled artifacts a minute later, so that a DAG
file's freshness check (``dataops.dbt.fingerprint.matches``) sees the
artifact newer than the project and does not rehash it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from dataops.dbt.graph import GRAPH_FILE

BUNDLE_FORMAT = 1
INFO_FILE = "bundle.json"
DAGS = "dags"
DBT = "dbt"
MANIFEST_FILE = "manifest.json"
# What a bundle keeps of dbt's target/ folder.
CATALOG_FILE = "catalog.json"
DOCS_PAGE = "index.html"
# What a bundle's dbt/target keeps: the graph the DAGs read, and dbt's docs site (dataops.dbt.docs).
ARTIFACTS = (MANIFEST_FILE, GRAPH_FILE, CATALOG_FILE, DOCS_PAGE)
SOURCE_MTIME = 946684800  # 2000-01-01T00:00:00Z
ARTIFACT_MTIME = SOURCE_MTIME + 60
_FIXED_TIME = "2000-01-01T00:00:00Z"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BundleInfo:
    """``bundle.json``: what a bundle was built from and with."""

    digest: str
    commit: str
    author: str
    committed_at: str
    subject: str
    platform_version: str
    dbt_target: str
    dbt_version: str
    format: int = BUNDLE_FORMAT

    @property
    def version(self) -> str:
        return self.digest

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> BundleInfo:
        """Raises ValueError when ``data`` is not a bundle's info."""
        names = set(cls.__dataclass_fields__)
        if not isinstance(data, dict) or not names - {"format"} <= set(data):
            raise ValueError(f"not a bundle's info: expected the fields {', '.join(sorted(names))}")
        return cls(**{k: v for k, v in data.items() if k in names})

    def dumps(self) -> bytes:
        return (json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n").encode()


@dataclass(frozen=True)
class BuiltBundle:
    """A bundle on disk: its files under ``root`` and its archive."""

    root: Path
    archive: Path
    info: BundleInfo


def short(version: str) -> str:
    """How versions are shown: the first 12 hex digits (any unique prefix names one)."""
    return version[:12]


def bundle_files(root: Path) -> list[str]:
    """The bundle's files as sorted POSIX paths relative to ``root``, ``bundle.json`` aside."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in files:
            rel = Path(folder, name).relative_to(root).as_posix()
            if rel != INFO_FILE:
                found.append(rel)
    return sorted(found)


def content_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for rel in bundle_files(root):
        digest.update(rel.encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(Path(root, rel).read_bytes()).hexdigest().encode())
        digest.update(b"\n")
    return digest.hexdigest()


def normalize_manifest(path: Path) -> dict:
    """Fixes the times and the invocation id dbt writes into ``manifest.json`` (or ``catalog.json``); returns it."""
    manifest = json.loads(path.read_text())
    metadata = manifest.get("metadata") or {}
    for key in ("generated_at", "invocation_started_at", "run_started_at"):
        if key in metadata:
            metadata[key] = _FIXED_TIME
    if "invocation_id" in metadata:
        metadata["invocation_id"] = None
    for collection in manifest.values():
        if not isinstance(collection, dict):
            continue
        for entry in collection.values():
            if isinstance(entry, dict) and "created_at" in entry:
                entry["created_at"] = 0.0
    path.write_text(json.dumps(manifest, sort_keys=True, separators=(",", ":")))
    return manifest


def write_archive(root: Path, info: BundleInfo, dest: Path) -> Path:
    """A deterministic ``.tar.gz`` of the bundle: sorted entries, fixed times, owners and modes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            _add(tar, INFO_FILE, info.dumps(), SOURCE_MTIME)
            written_dirs: set[str] = set()
            for rel in bundle_files(root):
                for parent in reversed(Path(rel).parents[:-1]):
                    if parent.as_posix() not in written_dirs:
                        written_dirs.add(parent.as_posix())
                        _add_dir(tar, parent.as_posix())
                mtime = ARTIFACT_MTIME if rel.startswith(f"{DBT}/target/") else SOURCE_MTIME
                _add(tar, rel, Path(root, rel).read_bytes(), mtime)
    dest.write_bytes(buffer.getvalue())
    return dest


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: int) -> None:
    member = _member(name, mtime)
    member.size = len(data)
    member.mode = 0o644
    tar.addfile(member, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str) -> None:
    member = _member(name, SOURCE_MTIME)
    member.type = tarfile.DIRTYPE
    member.mode = 0o755
    tar.addfile(member)


def _member(name: str, mtime: int) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.mtime = mtime
    member.uid = member.gid = 0
    member.uname = member.gname = ""
    return member


def read_info(root: Path) -> BundleInfo:
    """``bundle.json`` of a bundle's folder; ValueError saying what is wrong with it."""
    try:
        return BundleInfo.from_json(json.loads((root / INFO_FILE).read_text()))
    except FileNotFoundError:
        raise ValueError(f"it has no {INFO_FILE}") from None
    except ValueError as exc:
        raise ValueError(f"its {INFO_FILE} is unreadable ({exc})") from None
