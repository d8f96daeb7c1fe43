"""``dataops smoke``: the check an operator runs once after deploying to a warehouse."""

from __future__ import annotations

import os

import click
from rich.console import Console
from rich.table import Table

from dataops.cli.options import setting_range
from dataops.config import load_settings
from dataops.errors import DataOpsError


@click.command()
@click.option("--scale", type=setting_range("scale"), default=None, help="TICKIT scale factor (default: DATAOPS_SCALE or 1).")
@click.option(
    "--via",
    type=click.Choice(["dag", "dbt"]),
    default="dag",
    show_default=True,
    help="Build the models with the redshift_transformations DAG (through Airflow) or with `dbt build`.",
)
@click.pass_context
def smoke(ctx: click.Context, scale: float | None, via: str) -> None:
    """Load TICKIT into the warehouse of DATAOPS_TARGET, build the five models,
    and compare their row counts with the counts computed from the sample files.
    Exits 1, naming each model that differs."""
    from dataops.cli.data import load
    from dataops.local import demo as job
    from dataops.local import smoke as check

    console = Console()
    if scale:
        os.environ["DATAOPS_SCALE"] = f"{scale:g}"
    settings = load_settings()
    settings.dbt_env()  # a warehouse that cannot be reached as configured stops here, naming the setting
    console.print(f"[bold cyan]==>[/] TICKIT sample data into {settings.target}")
    ctx.invoke(load, target=settings.target, data_dir=None)
    if via == "dbt":
        console.print("[bold cyan]==>[/] dbt build")
        check.build_with_dbt(settings)
    else:
        console.print(f"[bold cyan]==>[/] the {job.DEMO_DAG} DAG through Airflow")
        job.compile_project(settings)
        run = job.run_dag(settings)
        failed = sorted(task for task, state in run.task_states.items() if state != "success")
        if failed:
            raise DataOpsError(f"DAG run {run.run_id}: tasks not successful: {', '.join(failed)}")
    result = check.check_models(settings, settings.data_dir)
    table = Table()
    for column in ("model", "rows", "expected", ""):
        table.add_column(column)
    for model, expected in result.expected.items():
        found = result.found.get(model)
        table.add_row(model, str(found), str(expected), "ok" if found == expected else "DIFFERS")
    console.print(table)
    if not result.passed:
        raise DataOpsError("smoke test failed: " + "; ".join(result.mismatches))
    console.print(f"Smoke test passed on {settings.warehouse().where(settings)}.")
