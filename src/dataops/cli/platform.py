"""``dataops up``, ``down``, ``status`` and ``logs``: Airflow on this machine.

Two stacks: ``embedded`` (the default: Airflow's components on SQLite with
the LocalExecutor, no server needed) and ``services`` (the production
topology on PostgreSQL and Redis, each Airflow component its own supervised
process).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import click

from dataops import paths
from dataops.config import load_settings
from dataops.errors import DataOpsError
from dataops.local.services.config import OPTION_VARIABLES


@click.command()
@click.option("--stack", type=click.Choice(["embedded", "services"]), default="embedded", show_default=True,
              help="embedded: SQLite and LocalExecutor, no server needed. services: PostgreSQL, Redis, "
                   "CeleryExecutor, each Airflow component its own process.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535),
              help="Port of the Airflow UI and API on 127.0.0.1.")
@click.option("--pg-url", envvar=OPTION_VARIABLES["--pg-url"],
              help="[services] PostgreSQL server for Airflow's metadata and the warehouse, e.g. "
                   "postgresql://user:password@host:5432/warehouse_db (default: the DATAOPS_PG_* settings).")
@click.option("--redis-url", envvar=OPTION_VARIABLES["--redis-url"], default="redis://127.0.0.1:6379/0", show_default=True,
              help="[services] Redis server used as the Celery broker.")
@click.option("--redis-prefix", envvar=OPTION_VARIABLES["--redis-prefix"], default="dataops:", show_default=True,
              help="[services] Prefix of every Redis key the stack uses, so stacks sharing a Redis never meet.")
@click.option("--metadata-db", envvar=OPTION_VARIABLES["--metadata-db"], default="dataops_airflow", show_default=True,
              help="[services] Airflow's metadata database on that server (created if missing).")
@click.option("--broker-outage", "broker_outage_s", envvar=OPTION_VARIABLES["--broker-outage"], default=300,
              show_default=True, type=click.IntRange(1, 86_400), metavar="SECONDS",
              help="[services] How long a task that cannot be sent to the broker stays queued (the broker down or "
                   "restarting) before it fails; each retry of the task waits as long again.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 16),
              help="[services] Number of Celery workers.")
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(1, 32),
              help="[services] Tasks each Celery worker runs at once.")
@click.option("--dags-folder", "dags_folders", multiple=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="[services] A folder of DAG files; repeat for more (default: analytics/dags).")
@click.option("--dags", "dag_source", type=click.Choice(["worktree", "published"]), default="worktree", show_default=True,
              help="worktree: the DAG files and dbt project as they are on disk (the fast loop: an edit shows at the "
                   "next parse). published: the current version in the bundle store (DATAOPS_BUNDLE_STORE), as "
                   "`dataops publish` made it; each run keeps the version it started with.")
@click.option("--detach", is_flag=True, help="[services] Start in the background and return once ready; `dataops down` stops it.")
@click.option("--scheduled-runs", is_flag=True,
              help="Let DAG schedules start runs (an unpaused @daily DAG then runs at once for its latest day). "
                   "Without it only the runs you trigger start.")
def up(stack: str, port: int, pg_url: str | None, redis_url: str, redis_prefix: str, metadata_db: str,
       broker_outage_s: int, workers: int, concurrency: int, dags_folders: tuple[Path, ...], dag_source: str, detach: bool,
       scheduled_runs: bool) -> None:
    """Start Airflow (UI, scheduler, DAG processor, triggerer) with the DAGs.

    The UI listens on 127.0.0.1 with a generated admin password. New DAGs are
    unpaused, so a run triggered from the UI or the REST API starts at once;
    schedules start no run unless --scheduled-runs is given. Once up, it lists
    the DAGs and whether each is ready. In the foreground, Ctrl-C stops
    everything it started.

    With --stack services it first checks that PostgreSQL, Redis and the port
    are usable, creates Airflow's metadata database and the warehouse (loading
    TICKIT if absent), then starts the API server, scheduler, DAG processor,
    triggerer and the Celery workers, restarting any that dies. Logs go to
    .dataops/services/logs/<component>.log.
    """
    if stack == "embedded":
        if detach:
            raise click.UsageError("--detach needs --stack services (the embedded stack runs in the foreground)")
        _up_embedded(port, scheduled_runs, _published_store(dag_source))
        return
    _up_services(port, pg_url, redis_url, redis_prefix, metadata_db, workers, concurrency, dags_folders, detach,
                 scheduled_runs, _published_store(dag_source), broker_outage_s)


def _published_store(dag_source: str) -> str | None:
    """The bundle store to serve with --dags published (None: the working tree); says what is current."""
    if dag_source != "published":
        return None
    from dataops.delivery.bundle import short
    from dataops.delivery.settings import open_bundle_store

    store = open_bundle_store()
    pointer, _ = store.read_pointer()
    if pointer is None:
        click.secho(f"Nothing is published in {store.location} yet: run `dataops publish`; "
                    "the stack serves its DAGs once a version is current.", fg="yellow")
    else:
        click.echo(f"Serving the published version {short(pointer.version)} from {store.location} "
                   "(a newer `dataops publish` shows within seconds).")
    return store.location


@click.command()
def down() -> None:
    """Stop the services stack started from this checkout (from any shell).

    Signals only the processes the stack recorded (pid and start time) or that
    carry its marker; nothing else.
    """
    config = _services_folder_config()
    done = _services().stop(config) if config else []
    if not done:
        click.echo("No services stack is running.")
        return
    for line in done:
        click.echo(f"  {line}")
    click.echo("Stopped.")


@click.command()
def status() -> None:
    """Show the services stack's components, the broker and Airflow's health.

    Exits 0 when every component runs and is healthy and the broker answers,
    1 (naming each problem) when not, 3 when no stack is running.
    """
    services = _services()
    config = _services_folder_config()
    state = services.StackState.read(config.state_file) if config else None  # type: ignore[union-attr]
    if state is None or not state.supervisor.alive():
        click.echo("No services stack is running.")
        raise SystemExit(3)
    from dataops.local.services.status import stack_status

    report = stack_status(config, state, services.health(config))
    for line in report.lines():
        click.secho(line, fg=None if report.ok or not line.startswith("  problem:") else "red")
    click.echo(f"  logs: {config.logs_dir}")
    if not report.ok:
        raise SystemExit(1)


@click.command()
@click.argument("component", required=False)
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines as they come (Ctrl-C stops).")
@click.option("-n", "--lines", default=50, show_default=True, help="How many of the last lines to print.")
def logs(component: str | None, follow: bool, lines: int) -> None:
    """Print the services stack's logs: one COMPONENT's (api-server, scheduler,
    dag-processor, triggerer, worker-N, supervisor, migrate) or all of them."""
    settings = load_settings()
    logs_dir = settings.state_dir / "services" / "logs"
    files = sorted(logs_dir.glob("*.log")) if logs_dir.is_dir() else []
    if component:
        files = [f for f in files if f.stem == component]
        if not files:
            known = ", ".join(f.stem for f in sorted(logs_dir.glob("*.log"))) if logs_dir.is_dir() else "none yet"
            raise DataOpsError(f"no log for component {component!r} in {logs_dir}; known: {known}")
    if not files:
        raise DataOpsError(f"no logs in {logs_dir}: start the stack with `dataops up --stack services`")
    positions = {}
    for path in files:
        text = path.read_text(errors="replace").splitlines()[-lines:]
        for line in text:
            click.echo(f"{path.stem} | {line}" if len(files) > 1 else line)
        positions[path] = path.stat().st_size
    while follow:
        time.sleep(0.5)
        for path in files:
            with open(path, "rb") as f:
                f.seek(positions[path])
                chunk = f.read()
                positions[path] = f.tell()
            for line in chunk.decode(errors="replace").splitlines():
                click.echo(f"{path.stem} | {line}" if len(files) > 1 else line)


def _up_services(port, pg_url, redis_url, redis_prefix, metadata_db, workers, concurrency, dags_folders, detach,
                 scheduled_runs, bundle_store: str | None, broker_outage_s: int = 300) -> None:
    services = _services()
    from dataops.local.services.config import PostgresServer, ServicesConfig
    from dataops.warehouses.postgres import PostgresSettings

    settings = load_settings()
    warehouse = settings.section(PostgresSettings)
    config = ServicesConfig(
        folder=settings.state_dir / "services",
        # A database named in --pg-url is the warehouse's.
        pg=pg_url or PostgresServer.of(warehouse),
        warehouse_db=warehouse.database,
        metadata_db=metadata_db,
        redis=redis_url,
        redis_prefix=redis_prefix,
        api_port=port,
        workers=workers,
        worker_concurrency=concurrency,
        dags_folders=tuple(p.resolve() for p in dags_folders),
        bundle_store=bundle_store or "",
        scheduled_runs=scheduled_runs,
        broker_outage_s=broker_outage_s,
    )

    def announce(step: str) -> None:
        click.secho("==> ", fg="cyan", bold=True, nl=False)
        click.echo(step)

    announce(f"checking PostgreSQL at {config.pg.address}, Redis at {config.redis.address} and port {port}")
    config, env = services.prepare(config, settings, announce)
    dag_folders = config.dags_folders or (() if bundle_store else (paths.dags_dir(),))

    def on_ready(running, detached: bool) -> None:
        _print_running(running.url, running.user, running.password, config.secrets_file, running.logs_dir)
        _print_dags(running.url, running.user, running.password, dag_folders, scheduled_runs)
        click.echo("Stop it with `dataops down`." if detached else "Press Ctrl-C to stop.")

    if detach:
        announce(f"starting {4 + workers} components in the background")
        on_ready(services.start_detached(config, env), detached=True)
        return
    services.configure_supervisor_log(config, to_console=True)
    announce(f"starting {4 + workers} components (Ctrl-C stops them)")
    services.run_foreground(config, env, on_ready=lambda running: on_ready(running, detached=False))
    click.echo("Stopped.")


def _print_running(url: str, user: str, password: str, password_file: Path, logs: object) -> None:
    click.secho(f"\nAirflow is up: {url}", fg="green", bold=True)
    click.echo(f"  user:     {user}\n  password: {password}  (kept in {password_file})\n  logs:     {logs}")


def _print_dags(url: str, user: str, password: str, folders, scheduled_runs: bool) -> None:
    """Which DAGs the stack serves, whether each is ready to trigger, and whether schedules start runs."""
    import airflow_client.client as client

    from dataops.local.api import AirflowApi
    from dataops.local.dag_states import describe, served_dags

    try:
        served = served_dags(AirflowApi(url, user, password), folders)
    except (OSError, client.exceptions.OpenApiException) as exc:
        # The stack runs all the same; only the listing failed.
        click.secho(f"Could not list the DAGs through {url}/api/v2 ({exc}); the UI shows them.", fg="yellow")
        return
    click.echo()
    for line, needs_attention in describe(served, scheduled_runs, url):
        click.secho(line, fg="yellow" if needs_attention else None, bold=needs_attention)


def _services():
    """The services stack's module, imported only when used (the CLI starts faster)."""
    from dataops.local.services import stack

    return stack


def _services_folder_config():
    from dataops.local.services.config import ServicesConfig

    folder = load_settings().state_dir / "services"
    if not (folder / "config.json").is_file():
        return None
    return ServicesConfig.load(folder)


def _up_embedded(port: int, scheduled_runs: bool, bundle_store: str | None) -> None:
    from dataops.local.airflow_env import DagSource
    from dataops.local.airflow_home import AirflowHome
    from dataops.local.embedded import EmbeddedStack

    settings = load_settings()
    dags = DagSource(store=bundle_store)
    stack = EmbeddedStack(AirflowHome.for_settings(settings, api_port=port, scheduled_runs=scheduled_runs, dags=dags))
    click.echo("Starting Airflow (SQLite, LocalExecutor: API server, scheduler, DAG processor, triggerer)...")
    # SIGTERM (from a service manager or `kill`) and a closed terminal (SIGHUP) stop as cleanly as Ctrl-C:
    # the components run in a process group of their own, which neither reaches.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        stack.start()
        user, password = stack.admin
        _print_running(stack.url, user, password, stack.home.passwords_file, f"{stack.log_dir}/<component>.log")
        _print_dags(stack.url, user, password, [] if bundle_store else [paths.dags_dir()], scheduled_runs)
        click.echo("Press Ctrl-C to stop.")
        name, code = stack.wait()
        raise click.ClickException(
            f"Airflow's {name} exited with code {code}, so the stack stops; see {stack.log_file(name)}"
        )
    except KeyboardInterrupt:
        click.echo("\nStopping Airflow...")
    finally:
        stack.stop()
    click.echo("Stopped.")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt
