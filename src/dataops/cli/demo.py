"""``dataops demo``: the main job, end to end on the embedded stack and the configured warehouse."""

from __future__ import annotations

import os

import click
from rich.console import Console
from rich.table import Table

from dataops.cli.options import setting_range
from dataops.config import load_settings
from dataops.local import demo as job


@click.command()
@click.option("--scale", type=setting_range("scale"), default=None, help="TICKIT scale factor (default: DATAOPS_SCALE or 1).")
@click.pass_context
def demo(ctx: click.Context, scale: float | None) -> None:
    """Load TICKIT into the warehouse of DATAOPS_TARGET (DuckDB by default,
    or PostgreSQL or Redshift), run redshift_transformations through Airflow,
    and print the five models' top rows with a timing summary."""
    from dataops.cli.data import load

    console = Console()
    # The environment carries the scale to every step, including the Airflow processes.
    if scale:
        os.environ["DATAOPS_SCALE"] = f"{scale:g}"
    settings = load_settings()
    # A warehouse that cannot be reached as configured stops here, naming the setting to set.
    settings.dbt_env()
    timings = job.Timings()

    def announce(step: str) -> None:
        console.print(f"[bold cyan]==>[/] {step}")

    with timings.step(f"TICKIT sample data into {settings.target}", announce):
        ctx.invoke(load, target=settings.target, data_dir=None)
    with timings.step("compile the dbt project", announce):
        job.compile_project(settings)
    with timings.step(f"run the {job.DEMO_DAG} DAG through Airflow", announce):
        run = job.run_dag(settings)
    succeeded = sum(state == "success" for state in run.task_states.values())
    console.print(
        f"Run {run.run_id}: {succeeded} of {len(run.task_states)} tasks succeeded "
        f"(one per dbt model and tested source); the run took {run.duration_s:.1f} s in Airflow."
    )

    for model, (columns, rows) in job.top_rows(settings).items():
        console.print(f"\n[bold]{settings.models_schema}.{model}[/]")
        table = Table()
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*(str(v) for v in row))
        console.print(table)

    console.print("\n[bold]Timing[/]")
    summary = Table()
    summary.add_column("step")
    summary.add_column("seconds", justify="right")
    for name, seconds in timings.steps:
        summary.add_row(name, f"{seconds:.1f}")
    summary.add_row("[bold]total[/]", f"[bold]{timings.total:.1f}[/]")
    console.print(summary)
    console.print(f"Warehouse: {job.describe_warehouse(settings)}")
