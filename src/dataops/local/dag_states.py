"""What a local stack serves once it is up: its DAGs, paused or not, and
whether schedules start runs, in words a new user can act on.

Both local stacks create DAGs unpaused (``[core] dags_are_paused_at_creation``)
so a triggered run starts at once, and leave scheduled runs off by default
(``[scheduler] use_job_schedule``) so that no run starts that nobody asked
for. A DAG paused in an older metadata database stays paused: ``dataops up``
then says so, and how to unpause it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Airflow's own guess of which files hold DAGs (its "safe mode"): both words appear.
_DAG_FILE_WORDS = (b"airflow", b"dag")


@dataclass(frozen=True)
class DagState:
    dag_id: str
    paused: bool
    # Airflow's summary of the schedule ("@daily"), None for a DAG run only when triggered.
    schedule: str | None


@dataclass(frozen=True)
class ServedDags:
    dags: list[DagState]
    # DAG files Airflow could not import, and files it had not parsed yet when we stopped waiting.
    broken_files: list[str]
    unparsed_files: list[str]


def airflow_settings(scheduled_runs: bool) -> dict[str, str]:
    """The Airflow settings that make a local stack's DAGs ready to run without surprises."""
    return {
        # A DAG appears unpaused: a run triggered from the UI or the API starts at once.
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        # Off: only triggered runs start (an unpaused @daily DAG would otherwise run at once).
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(scheduled_runs),
    }


def dag_files(folders: Iterable[Path]) -> list[str]:
    """The files under ``folders`` Airflow will parse for DAGs, relative to their folder."""
    found = []
    for folder in folders:
        for path in sorted(Path(folder).rglob("*.py")):
            try:
                content = path.read_bytes().lower()
            except OSError:
                continue
            if all(word in content for word in _DAG_FILE_WORDS):
                found.append(str(path.relative_to(folder)))
    return found


def served_dags(api, folders: Iterable[Path], timeout_s: float = 90.0, poll_s: float = 1.0) -> ServedDags:
    """The DAGs the stack serves, once every DAG file of ``folders`` is parsed
    (or ``timeout_s`` has passed). ``api`` is a ``dataops.local.api.AirflowApi``."""
    import airflow_client.client as client

    import_errors = client.ImportErrorApi(api.dags.api_client)
    expected = dag_files(folders)
    deadline = time.monotonic() + timeout_s
    while True:
        dags = api.dags.get_dags(limit=1000).dags
        errors = import_errors.get_import_errors(limit=1000).import_errors
        seen = [d.relative_fileloc or d.fileloc for d in dags]
        broken = [e.filename for e in errors]
        unparsed = [f for f in expected if not _matches(f, seen + broken)]
        if not unparsed or time.monotonic() > deadline:
            states = [DagState(d.dag_id, d.is_paused, d.timetable_summary) for d in dags]
            return ServedDags(sorted(states, key=lambda s: s.dag_id), sorted(broken), unparsed)
        time.sleep(poll_s)


def _matches(relative: str, locations: list[str]) -> bool:
    return any(location == relative or location.endswith(f"/{relative}") for location in locations)


def describe(served: ServedDags, scheduled_runs: bool, url: str) -> list[tuple[str, bool]]:
    """Lines for the console, each with whether it needs the user's attention."""
    if scheduled_runs:
        header = ("DAGs (scheduled runs on: an unpaused DAG with a schedule runs for its latest interval "
                  "at once, then on schedule):")
    else:
        header = ("DAGs (scheduled runs off: only the runs you trigger start; "
                  "`dataops up --scheduled-runs` turns schedules on):")
    lines = [(header, False)]
    width = max((len(d.dag_id) for d in served.dags), default=0)
    for dag in served.dags:
        schedule = f"schedule {dag.schedule}" if dag.schedule and dag.schedule != "None" else "no schedule"
        if dag.schedule and dag.schedule != "None" and not scheduled_runs:
            schedule += " (not used)"
        if dag.paused:
            lines.append((
                f"  {dag.dag_id:<{width}}  PAUSED: a triggered run waits until you unpause it (the toggle in the UI, "
                f"or PATCH {url}/api/v2/dags/{dag.dag_id} with {{\"is_paused\": false}}); {schedule}",
                True,
            ))
        else:
            lines.append((f"  {dag.dag_id:<{width}}  ready to trigger; {schedule}", False))
    if not served.dags:
        lines.append(("  none yet: Airflow has not served any DAG", True))
    for path in served.broken_files:
        lines.append((f"  {path}: Airflow cannot import it; the UI shows why (Dag import errors)", True))
    for path in served.unparsed_files:
        lines.append((f"  {path}: not parsed yet; it appears in the UI once the DAG processor has read it", True))
    return lines
