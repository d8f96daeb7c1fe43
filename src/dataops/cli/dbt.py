"""``dataops dbt``: compile a dbt project's graph for the DAG factory."""

from __future__ import annotations

from pathlib import Path

import click



@click.group()
def dbt() -> None:
    """Work with dbt projects (the TICKIT project by default)."""


@dbt.command()
@click.option(
    "--project-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The dbt project (default: DATAOPS_DBT_PROJECT_DIR, else analytics/dbt).",
)
@click.option(
    "--target-path",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write manifest.json and dataops_graph.json (default: <project>/target).",
)
def manifest(project_dir: Path | None, target_path: Path | None) -> None:
    """Run `dbt parse` once and write the graph artifact DAG files read."""
    from dataops.config import load_settings
    from dataops.dbt.manifest import compile_project
    from dataops.dbt.project import DbtProject

    settings = load_settings()
    project = DbtProject.from_settings(settings, project_dir)
    compiled = compile_project(project, target_path)
    graph = compiled.graph
    kinds: dict[str, int] = {}
    for node in graph.nodes.values():
        kinds[node.resource_type] = kinds.get(node.resource_type, 0) + 1
    counts = ", ".join(f"{n} {k}s" for k, n in sorted(kinds.items()))
    click.echo(f"{graph.project_name}: {counts}, {len(graph.test_owner)} tests attached")
    click.echo(f"wrote {compiled.graph_path}")
