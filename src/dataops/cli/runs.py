"""``dataops runs``: each model's dbt duration and outcome over a DAG's last runs.

The same data as the Airflow UI's "dbt history" page, from the platform
plugin's API (``/dataops/api/history/<dag>``) of a running Airflow: the local
stack that is up, or the one named with ``--url``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from dataops.errors import ConfigError


@click.command()
@click.argument("dag_id", default="redshift_transformations")
@click.option("--runs", "run_count", default=20, show_default=True, type=click.IntRange(1, 500),
              help="How many of the DAG's latest runs.")
@click.option("--json", "as_json", is_flag=True, help="Print the plugin's JSON (runs, models with one point per run, regressions).")
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a PNG: each model's duration per run, failures marked.")
@click.option("--url", default=None, help="Airflow's URL (default: the local stack that is up).")
@click.option("--user", default=None, help="With --url: the user to sign in as.")
@click.option("--password", envvar="DATAOPS_AIRFLOW_PASSWORD", default=None,
              help="With --url: the password (or DATAOPS_AIRFLOW_PASSWORD).")
def runs(dag_id: str, run_count: int, as_json: bool, plot_file: Path | None, url: str | None, user: str | None,
         password: str | None) -> None:
    """The models of DAG_ID over its last runs: dbt's time per run, failures, and regressions."""
    from dataops.local.api import AirflowApi

    url, user, password = _airflow(url, user, password)
    data = AirflowApi(url, user, password).plugin_json(f"/dataops/api/history/{dag_id}?runs={run_count}")
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(format_table(data))
    if plot_file is not None:
        from dataops.runs.plot import plot_history

        click.echo(f"wrote {plot_history(data, plot_file)}", err=as_json)


def _airflow(url: str | None, user: str | None, password: str | None) -> tuple[str, str, str]:
    if url:
        if not user or not password:
            raise ConfigError("--url needs --user and --password (or DATAOPS_AIRFLOW_PASSWORD)")
        return url, user, password
    from dataops.config import load_settings
    from dataops.local.running import running_airflow

    found = running_airflow(load_settings())
    if found is None:
        raise ConfigError("no local Airflow is up: start one with `dataops up`, or name one with --url")
    return found


def format_table(data: dict) -> str:
    """One line per model: its last durations (oldest first, x for a failure), median and last outcome."""
    from statistics import median

    runs = data["runs"]
    if not runs:
        return f"{data['dag_id']}: no run has reported dbt results yet"
    lines = [f"{data['dag_id']}: the last {len(runs)} runs, {runs[0]['started_at']} to {runs[-1]['started_at']}",
             f"{'model':<36} {'median s':>9} {'last s':>8}  {'last':<8} durations (oldest first; x failed, - skipped)"]
    for model in data["models"]:
        points = model["points"]
        ok = [p["duration"] for p in points if p["state"] == "success" and p["duration"] is not None]
        last = points[-1]
        cells = " ".join(_cell(p) for p in points[-12:])
        lines.append(f"{model['name'][:36]:<36} {_num(median(ok) if ok else None):>9} {_num(last['duration']):>8}  "
                     f"{last['state']:<8} {cells}")
    if data["regressions"]:
        lines.append("regressions (median, older half of the runs -> recent half):")
        lines += [f"  {r['name']}: {r['median_before_s']:.2f} s -> {r['median_recent_s']:.2f} s (+{r['growth_s']:.2f} s)"
                  for r in data["regressions"]]
    else:
        lines.append("regressions: none (no model's median time grew)")
    return "\n".join(lines)


def _cell(point: dict) -> str:
    if point["state"] == "failed":
        return "x"
    if point["state"] != "success" or point["duration"] is None:
        return "-"
    return f"{point['duration']:.2f}"


def _num(value) -> str:
    return "-" if value is None else f"{value:.2f}"
