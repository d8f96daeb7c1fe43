"""dbt's documentation site, built with each compile: ``dbt docs generate``.

It runs after ``dbt parse`` with ``--no-compile`` (the manifest just parsed
is reused) and ``--empty-catalog``: no query reaches the warehouse, so it
builds where none is reachable (a bundle build in CI, the local stacks'
start). ``compile_project(docs=True)`` runs it in the parse's own dbt process:
parse and site took 5.9 CPU-s on TICKIT, against 8.8 as two processes. The
site then documents the models, their SQL, tests, lineage and descriptions,
but not the warehouse's column types and row counts, which only a catalog
read from the warehouse has.

The site is three files in the target folder beside the manifest.
"""

from __future__ import annotations

from pathlib import Path

from dataops.errors import DbtError

# What the site needs: dbt's static page and the two artifacts it loads.
DOCS_FILES = ("index.html", "manifest.json", "catalog.json")
DOCS_ARGS = ("--no-compile", "--empty-catalog")


def has_docs(target: Path) -> bool:
    return all((Path(target) / name).is_file() for name in DOCS_FILES)


def docs_invocation(target_path: Path | None = None):
    """``dbt docs generate`` as a DbtInvocation: alone, or after a parse (its ``then``)."""
    from dataops.dbt.runner import DbtInvocation

    return DbtInvocation(command="docs generate", target_path=target_path, extra_args=DOCS_ARGS)


def generate_docs(project, target_path: Path) -> Path:
    """``dbt docs generate`` into ``target_path`` (which holds the manifest of a parse); raises DbtError."""
    from dataops.dbt.runner import DbtRunner, describe_failure

    run = DbtRunner(project).invoke(docs_invocation(target_path))
    if not run.succeeded or not has_docs(target_path):
        raise DbtError(f"dbt docs generate in {project.project_dir}: {describe_failure(run)}")
    return Path(target_path) / "index.html"
