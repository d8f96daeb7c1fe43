"""``dataops dbt``: compile a dbt project's graph for the DAG factory."""

from __future__ import annotations

from pathlib import Path

import click

from dataops.cli.options import project_dir_option



@click.group()
def dbt() -> None:
    """Work with dbt projects (the TICKIT project by default)."""


@dbt.command()
@project_dir_option
@click.option(
    "--target-path",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write manifest.json and dataops_graph.json (default: <project>/target).",
)
@click.option(
    "--profiles-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The folder of the profiles.yml to use (default: DATAOPS_DBT_PROFILES_DIR, else the project's "
    "own profiles.yml, else the platform's profile).",
)
@click.option("--profile", default=None, help="The profile to use (default: DATAOPS_DBT_PROFILE, else the project's).")
@click.option("--target", default=None, help="The profile's target (default: DATAOPS_DBT_TARGET, else its default).")
@click.option("--docs/--no-docs", default=True, show_default=True,
              help="Also build dbt's documentation site (dbt docs generate, no warehouse query), which the "
              "Airflow UI serves as \"dbt docs\".")
def manifest(
    project_dir: Path | None,
    target_path: Path | None,
    profiles_dir: Path | None,
    profile: str | None,
    target: str | None,
    docs: bool,
) -> None:
    """Run `dbt parse` once and write the graph artifact DAG files read (and dbt's docs site)."""
    from dataops.config import load_settings
    from dataops.dbt.manifest import compile_project
    from dataops.dbt.profile import DbtProfile
    from dataops.dbt.project import DbtProject

    settings = load_settings()
    project = DbtProject.from_settings(settings, project_dir, DbtProfile(profiles_dir, profile, target))
    compiled = compile_project(project, target_path, docs=docs)
    for warning in compiled.deprecations:
        click.secho(f"dbt: {warning}", fg="yellow", err=True)
    graph = compiled.graph
    kinds: dict[str, int] = {}
    for node in graph.nodes.values():
        kinds[node.resource_type] = kinds.get(node.resource_type, 0) + 1
    counts = ", ".join(f"{n} {k}s" for k, n in sorted(kinds.items()))
    click.echo(f"{graph.project_name}: {counts}, {len(graph.test_owner)} tests attached ({project.profile.describe()})")
    click.echo(f"wrote {compiled.graph_path}")
    if docs:
        click.echo(f"wrote dbt's docs site: {compiled.graph_path.parent / 'index.html'}")
