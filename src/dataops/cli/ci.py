"""``dataops ci``: the analysts' check of a change, the same on a laptop and in GitHub Actions."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import click

from dataops.cli.options import project_dir_option


@click.command()
@click.option(
    "--state",
    default=None,
    metavar="PATH_OR_URL",
    help="Production's dbt manifest.json (a file, its folder, or an http(s):// or s3:// URL). "
    "Default: the current published bundle's (DATAOPS_BUNDLE_STORE); with none, everything is built.",
)
@project_dir_option
@click.option(
    "--dags-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The DAG files to import against the changed project (default: the project's sibling dags/ folder).",
)
@click.option(
    "--target-path",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep dbt's artifacts (manifest, run_results.json, compiled SQL) in this folder.",
)
@click.option("--schema", default=None, help="The run's schema (default: ci_<pull request or branch>_<random>).")
@click.option("--no-lint", is_flag=True, help="Skip the SQL lint.")
@click.option("--no-dags", is_flag=True, help="Skip the DAG import check.")
def ci(state, project_dir, dags_dir, target_path, schema, no_lint, no_dags) -> None:
    """Check a change before merge: lint, DAG imports and a Slim CI build, in a schema of its own.

    \b
    1. production's manifest: --state, else the current published bundle
    2. the changed models: dbt's state:modified
    3. sqlfluff on the changed models (the project's .sqlfluff)
    4. the DAG files import against the changed project
    5. dbt build --select state:modified+ --defer --state <production>
       into ci_<change>_<random>, dropped afterwards whatever happens
       (also on Ctrl-C); without production's manifest, everything is built

    Exits 1 when a step fails, naming the model, test, file and line. In
    GitHub Actions the report is also the job's step summary.
    """
    from dataops.ci.run import CiOptions, run_ci
    from dataops.ci.summary import write_step_summary
    from dataops.config import load_settings

    if schema is not None and not (schema.replace("_", "").isalnum() and schema.islower() and schema[0].isalpha()):
        raise click.BadParameter("must be a lowercase SQL identifier (letters, digits, underscores)", param_hint="--schema")
    # A cancelled CI job is sent SIGTERM: leave through the finally blocks, which drop the schema.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    settings = load_settings()
    started = time.monotonic()

    def progress(message: str) -> None:
        click.echo(f"[{time.monotonic() - started:6.1f}s] {message}", err=True)

    options = CiOptions(
        project_dir=project_dir, dags_dir=dags_dir, state=state, schema=schema, target_path=target_path,
        lint=not no_lint, dags=not no_dags,
    )
    try:
        report = run_ci(settings, options, progress)
    except KeyboardInterrupt:
        click.secho("interrupted: the run's schemas were dropped", fg="yellow", err=True)
        sys.exit(130)
    click.echo(report.text())
    if write_step_summary(report):
        progress("wrote the job summary ($GITHUB_STEP_SUMMARY)")
    if not report.passed:
        sys.exit(1)
