"""Building a commit's bundle: export its analytics tree, compile, check the DAG files, pack."""

from __future__ import annotations

import shutil
from pathlib import Path

import dataops
from dataops.config import Settings
from dataops.delivery.bundle import (
    ARTIFACTS,
    CATALOG_FILE,
    MANIFEST_FILE,
    DAGS,
    DBT,
    INFO_FILE,
    BuiltBundle,
    BundleInfo,
    Progress,
    content_digest,
    normalize_manifest,
    write_archive,
)
from dataops.delivery.dag_check import check_dag_files
from dataops.delivery.errors import DeliveryError
from dataops.delivery.git import ANALYTICS, Commit, export_tree
from dataops.errors import DbtError


def build_bundle(repo: Path, commit: Commit, work: Path, settings: Settings, progress: Progress) -> BuiltBundle:
    """Builds the bundle of ``commit`` in ``work``: archive, compile, check the DAG files, pack.

    Raises DeliveryError (naming the file or model) when the dbt project does
    not compile or a DAG file does not import.
    """
    root = work / "bundle"
    progress(f"archive: {ANALYTICS}/{DAGS} and {ANALYTICS}/{DBT} at commit {commit.short}")
    export_tree(repo, commit, (DAGS, DBT), root)
    # dbt's docs site (dataops.dbt.docs) is built by the parse's own dbt process.
    progress("compile: dbt parse, then dbt docs generate")
    _compile(root / DBT, commit, settings)
    progress("check DAGs: importing each DAG file")
    check_dag_files(root / DAGS, root / DBT, commit)
    dbt_version = _keep_artifacts(root / DBT / "target")
    info = BundleInfo(
        digest=content_digest(root),
        commit=commit.sha,
        author=commit.author,
        committed_at=commit.committed_at,
        subject=commit.subject,
        platform_version=dataops.__version__,
        dbt_target=settings.target,
        dbt_version=dbt_version,
    )
    (root / INFO_FILE).write_bytes(info.dumps())
    archive = write_archive(root, info, work / f"{info.version}.tar.gz")
    return BuiltBundle(root, archive, info)


def _compile(project_dir: Path, commit: Commit, settings: Settings) -> None:
    """Runs ``dbt parse`` and ``dbt docs generate`` in the bundle."""
    # dbt's runner is loaded only to build: reading bundles (dataops.delivery.store) does not need it.
    from dataops.dbt.manifest import compile_project
    from dataops.dbt.project import DbtProject

    if not (project_dir / "dbt_project.yml").is_file():
        raise DeliveryError(
            f"commit {commit.short}: {ANALYTICS}/{DBT} has no dbt_project.yml: publish a commit that holds the dbt project."
        )
    for generated in ("target", "logs"):
        shutil.rmtree(project_dir / generated, ignore_errors=True)
    project = DbtProject.from_settings(settings, project_dir)
    try:
        compile_project(project, docs=True)
    except DbtError as exc:
        raise DeliveryError(
            f"commit {commit.short}: the dbt project {ANALYTICS}/{DBT} does not compile: {_parse_failure(exc)}. "
            "Fix it and commit again; nothing was published."
        ) from None


def _keep_artifacts(target: Path) -> str:
    """Keeps only the bundle's artifacts in dbt's target, made reproducible; returns dbt's version."""
    for entry in target.iterdir():
        if entry.name not in ARTIFACTS:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    normalize_manifest(target / CATALOG_FILE)
    manifest = normalize_manifest(target / MANIFEST_FILE)
    return str((manifest.get("metadata") or {}).get("dbt_version", ""))


def _parse_failure(exc: DbtError) -> str:
    """dbt's reason on one line (the error's first line names the build folder, not the user's)."""
    lines = [line.strip().rstrip(".:") for line in str(exc).splitlines()[1:]]
    reason = [line for line in lines if line and line != "Encountered an error" and "dbt.log" not in line]
    if not reason:
        return "dbt gave no reason (check the commit out and run `dataops dbt manifest` to see dbt's log)"
    return ": ".join(reason)
