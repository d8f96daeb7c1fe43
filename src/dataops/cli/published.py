"""``dataops data versions`` and ``dataops data rollback``: the published versions of the models'
data (test-gated publish, dataops.wap), apart from ``dataops versions``/``rollback`` (the code)."""

from __future__ import annotations

import click

from dataops.config import load_settings
from dataops.errors import ConfigError

_DAG_HELP = "The DAG (pipeline) whose data to show; default: every DAG that published (rollback: the only one)."


@click.command()
@click.option("--dag", "dag_id", help=_DAG_HELP)
def versions(dag_id: str | None) -> None:
    """List the kept versions of each DAG's published data, newest first; * marks the current one."""
    from dataops.wap.publisher import Publisher

    settings = load_settings()
    publisher = Publisher(settings)
    pipelines = [dag_id] if dag_id else publisher.pipelines()
    if not pipelines:
        click.echo(f"no data published in {settings.warehouse().where(settings)} yet: a DAG run publishes when its tests pass.")
        return
    for pipeline in pipelines:
        listed = publisher.versions(pipeline)
        click.echo(f"{pipeline}: {len(listed)} version(s) kept (DATAOPS_PUBLISH_KEEP={publisher.keep})")
        for i, v in enumerate(listed):
            click.echo(
                f"{'*' if i == 0 else ' '} {v.version:>4}  {v.published_at}  {v.action:<14}  run {v.run_id}  "
                f"code {v.code_version[:12]}  {len(v.relations)} relations"
            )


@click.command()
@click.argument("version", type=int, required=False)
@click.option("--dag", "dag_id", help=_DAG_HELP)
def rollback(version: int | None, dag_id: str | None) -> None:
    """Make an earlier version of a DAG's data production again, in one transaction (default: the
    version before the current one). The code is not changed: see `dataops rollback`."""
    from dataops.wap.publisher import Publisher

    publisher = Publisher(load_settings())
    if dag_id is None:
        pipelines = publisher.pipelines()
        if len(pipelines) != 1:
            raise ConfigError(
                f"name the DAG to roll back with --dag: {', '.join(pipelines) or 'none'} published data "
                "(`dataops data versions` lists them)."
            )
        dag_id = pipelines[0]
    done = publisher.rollback(dag_id, version)
    click.echo(f"{dag_id}: {done.version.action} (now version {done.version.version}, run "
               f"{done.version.run_id}, code {done.version.code_version[:12]}) in {done.seconds:.2f}s")
