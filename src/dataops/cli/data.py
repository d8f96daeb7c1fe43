"""``dataops data``: generate the TICKIT sample files and load them into a warehouse; list and roll
back the published versions of the models' data (``versions``, ``rollback``: cli/published.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dataops.cli.options import setting_range
from dataops.cli.published import rollback as rollback_data
from dataops.cli.published import versions as data_versions
from dataops.config import load_settings
from dataops.tickit.progress import Progress as ProgressCallback
from dataops.warehouses import registry


class TargetChoice(click.Choice):
    """The registered warehouses, read when the option is used (not when this module is imported)."""

    def __init__(self) -> None:
        self.case_sensitive = True

    @property
    def choices(self) -> tuple[str, ...]:
        return registry.names()


@click.group()
def data() -> None:
    """Generate and load the TICKIT sample database (users, venue, category,
    date, event, listing, sales); list and roll back the published versions
    of the models' data."""


data.add_command(data_versions)
data.add_command(rollback_data)


@data.command()
@click.option("--scale", type=setting_range("scale"), help="Scale factor; 1 is the real sample's size (default: DATAOPS_SCALE or 1).")
@click.option(
    "--seed", type=int, help="Random seed; the same seed and scale give identical files (default: DATAOPS_SEED or 42)."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the files (default: .dataops/data/tickit-sf<scale>).",
)
@click.option("--force", is_flag=True, help="Regenerate even if the folder already holds this scale and seed.")
def generate(scale: float | None, seed: int | None, out: Path | None, force: bool) -> None:
    """Write the seven TICKIT text files and a manifest.json beside them."""
    from dataops.tickit.generator import generate as generate_files

    settings = load_settings(**_given(scale=scale, seed=seed))
    advice = _unwritable_advice("--out", given=out is not None)
    out = out or settings.data_dir
    console = Console(soft_wrap=True)
    started = time.perf_counter()
    with _progress_bars(console, "rows") as progress:
        result = generate_files(
            out, scale=settings.scale, seed=settings.seed, force=force, progress=progress, unwritable_advice=advice
        )
    seconds = time.perf_counter() - started
    manifest = result.manifest
    if not result.generated:
        console.print(
            f"TICKIT SF {manifest.scale:g} (seed {manifest.seed}) is already in {out}; "
            "use --force to generate it again."
        )
        return
    _print_rows(console, manifest.rows, "rows")
    console.print(
        f"Generated TICKIT SF {manifest.scale:g} (seed {manifest.seed}): {sum(manifest.rows.values()):,} rows, "
        f"{result.bytes_written / 1e6:,.1f} MB in {seconds:.1f} s -> {out}"
    )


@data.command()
@click.option("--target", type=TargetChoice(), help="Warehouse to load (default: DATAOPS_TARGET or duckdb).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder with the TICKIT files, generated or the real sample (default: .dataops/data/tickit-sf<scale>).",
)
def load(target: str | None, data_dir: Path | None) -> None:
    """Load the TICKIT files into the warehouse's tickit schema.

    Generates the files first if the folder has none. The load replaces the
    tables in one transaction: a rerun never duplicates rows, and a failed
    load leaves the previous tables untouched.
    """
    from dataops.tickit.generator import ensure_data
    from dataops.tickit.loaders import get_loader

    settings = load_settings(**_given(target=target))
    advice = _unwritable_advice("--data-dir", given=data_dir is not None)
    data_dir = data_dir or settings.data_dir
    console = Console(soft_wrap=True)
    with _progress_bars(console, "rows") as progress:
        generated = ensure_data(
            data_dir, scale=settings.scale, seed=settings.seed, progress=progress, unwritable_advice=advice
        )
    if generated:
        console.print(f"Generated TICKIT SF {settings.scale:g} (seed {settings.seed}) into {data_dir}")
    loader = get_loader(settings)
    started = time.perf_counter()
    with _progress_bars(console, "steps", single=f"Loading into {loader.target}") as progress:
        rows = loader.load(data_dir, progress=progress)
    seconds = time.perf_counter() - started
    _print_rows(console, rows, "rows loaded")
    console.print(
        f"Loaded {sum(rows.values()):,} rows into {loader.target} schema {settings.tickit_schema} "
        f"in {seconds:.1f} s (from {data_dir})"
    )


def _unwritable_advice(option: str, given: bool) -> str:
    """What to do when the sample data's folder cannot be written: the folder
    came from ``option`` when given, else from DATAOPS_STATE_DIR."""
    if given:
        return f"choose another {option} folder"
    return "set DATAOPS_STATE_DIR to a folder you can write to"


def _given(**options: object) -> dict[str, object]:
    """The options the user gave, as settings overrides."""
    return {name: value for name, value in options.items() if value is not None}


@contextmanager
def _progress_bars(console: Console, unit: str, single: str | None = None) -> Iterator[ProgressCallback]:
    """A progress callback drawn as rich bars: one per task, or one ``single`` bar."""
    columns = [
        TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit), TimeElapsedColumn()
    ]
    with Progress(*columns, console=console, transient=True) as bars:
        tasks: dict[str, object] = {}

        def report(task: str, completed: int, total: int) -> None:
            key = single or task
            if key not in tasks:
                tasks[key] = bars.add_task(key, total=total)
            description = f"{single}: {task}" if single else task
            bars.update(tasks[key], completed=completed, total=total, description=description)

        yield report


def _print_rows(console: Console, rows: dict[str, int], heading: str) -> None:
    table = Table(show_edge=False, box=None)
    table.add_column("table")
    table.add_column(heading, justify="right")
    for name, count in rows.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
