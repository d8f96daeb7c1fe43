"""``dataops publish``, ``versions`` and ``rollback``: versioned analytics bundles.

Standalone click commands; the ``dataops`` group registers them. The store is
``DATAOPS_BUNDLE_STORE`` (see ``dataops.delivery.settings``).
"""

from __future__ import annotations

from pathlib import Path

import click


def _step(message: str) -> None:
    click.echo(f"  {message}")


def _when(iso_utc: str) -> str:
    return f"{iso_utc[:16].replace('T', ' ')} UTC"


@click.command()
@click.option("--ref", default="HEAD", show_default=True, help="The Git commit, branch or tag to publish.")
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The platform's Git checkout (default: the one you are in).",
)
def publish(ref: str, repo: Path | None) -> None:
    """Build the analytics bundle of a commit, upload it and make it current.

    The bundle holds analytics/dags and analytics/dbt as committed (never
    uncommitted edits), with the compiled graph and dbt's manifest. A project
    that does not compile or a DAG file that does not import is refused, and
    nothing is uploaded. Publishing the current commit again changes nothing.
    """
    from dataops import paths
    from dataops.config import load_settings
    from dataops.delivery.publish import publish as publish_ref
    from dataops.delivery.settings import load_delivery_settings, open_bundle_store

    settings = load_settings()
    delivery = load_delivery_settings()
    store = open_bundle_store(settings, delivery)
    click.echo(f"publish {ref} to {store.location}")
    in_use = _InUse(settings, delivery)
    outcome = publish_ref(
        store, repo or paths.repo_root(), ref, settings, retention=delivery.retention, in_use=in_use, progress=_step
    )
    click.echo(outcome.message)
    if outcome.pruned:
        click.echo(f"pruned {len(outcome.pruned)} old version(s): {', '.join(v[:12] for v in outcome.pruned)}")
    if in_use.unknown_because:
        click.echo(f"kept every old version: {in_use.unknown_because}")


class _InUse:
    """The versions unfinished runs read, asked of the local stack that is up or DATAOPS_BUNDLE_AIRFLOW_URL."""

    def __init__(self, settings, delivery):
        self.settings, self.delivery = settings, delivery
        self.unknown_because = ""

    def __call__(self) -> set[str] | None:
        from dataops.local.running import in_use_versions, running_airflow

        d = self.delivery
        airflow = running_airflow(self.settings) or (
            (d.airflow_url, d.airflow_user, d.airflow_password) if d.airflow_url else None
        )
        if airflow is None:
            self.unknown_because = (
                "no Airflow to ask which versions its unfinished runs read (start the local stack, or set "
                "DATAOPS_BUNDLE_AIRFLOW_URL, _USER and _PASSWORD)."
            )
            return None
        try:
            return in_use_versions(*airflow)
        except Exception as exc:  # noqa: BLE001  (any failure to ask means: unknown)
            self.unknown_because = f"could not ask Airflow at {airflow[0]} which versions its runs read ({exc})."
            return None


@click.command()
def versions() -> None:
    """List the published versions, newest first; * marks the current one."""
    from dataops.delivery.publish import list_versions
    from dataops.delivery.settings import open_bundle_store

    store = open_bundle_store()
    lines = list_versions(store)
    if not lines:
        click.echo(f"no versions published in {store.location}: run `dataops publish`.")
        return
    click.echo(f"versions in {store.location}:")
    for line in lines:
        info = line.stored.info
        marker = "*" if line.current else " "
        click.echo(
            f"{marker} {info.version[:12]}  commit {info.commit[:7]}  published {_when(line.stored.published_at)}"
            f" by {line.stored.published_by}  {info.subject}"
        )


@click.command()
@click.argument("version", required=False)
def rollback(version: str | None) -> None:
    """Make an earlier version current (default: the one published before the current one)."""
    from dataops.delivery.publish import rollback as roll_back
    from dataops.delivery.settings import open_bundle_store

    outcome = roll_back(open_bundle_store(), version)
    click.echo(outcome.message)
