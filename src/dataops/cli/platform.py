"""``dataops up``: the Airflow UI and scheduler on this machine."""

from __future__ import annotations

import signal

import click

from dataops.cli.main import main
from dataops.config import load_settings
from dataops.local.airflow_home import AirflowHome
from dataops.local.embedded import EmbeddedStack


@main.command()
@click.option("--port", default=8080, show_default=True, help="Port of the Airflow UI and API on 127.0.0.1.")
def up(port: int) -> None:
    """Start Airflow (UI, scheduler, DAG processor, triggerer) with the DAGs.

    Runs in the foreground on 127.0.0.1 and stops everything it started on
    Ctrl-C. The admin password is generated once and kept in
    .dataops/airflow/passwords.json.
    """
    settings = load_settings()
    stack = EmbeddedStack(AirflowHome.for_settings(settings, api_port=port))
    click.echo("Starting Airflow (standalone, SQLite, LocalExecutor)...")
    # SIGTERM (from a service manager or `kill`) stops as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        stack.start()
        user, password = stack.admin
        click.secho(f"\nAirflow is up: {stack.url}", fg="green", bold=True)
        click.echo(f"  user:     {user}\n  password: {password}\n  logs:     {stack.log_file}")
        click.echo("Press Ctrl-C to stop.")
        code = stack.wait()
        raise click.ClickException(f"Airflow exited with code {code}; see {stack.log_file}")
    except KeyboardInterrupt:
        click.echo("\nStopping Airflow...")
    finally:
        stack.stop()
    click.echo("Stopped.")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt
