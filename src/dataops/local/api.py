"""A small client of Airflow's REST API (the official apache-airflow-client).

Used by the benchmark and the end-to-end tests to trigger runs, wait for
them, read task states and durations, and clear tasks like the UI does.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime

from dataops.errors import DataOpsError

FINISHED_RUN_STATES = frozenset({"success", "failed"})


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    state: str
    start_date: datetime | None
    end_date: datetime | None
    # The published bundle version the run reads (None for DAGs read from a folder).
    bundle_version: str | None = None
    run_after: datetime | None = None

    @property
    def duration_s(self) -> float | None:
        if self.start_date and self.end_date:
            return (self.end_date - self.start_date).total_seconds()
        return None


@dataclass(frozen=True)
class TaskInfo:
    task_id: str
    state: str | None
    duration: float | None
    try_number: int
    start_date: datetime | None
    end_date: datetime | None


class AirflowApi:
    def __init__(self, base_url: str, username: str, password: str):
        import airflow_client.client as client

        self.base_url = base_url.rstrip("/")
        token = access_token(self.base_url, username, password)
        self._token = token
        config = client.Configuration(host=self.base_url, access_token=token)
        self._api_client = client.ApiClient(config)
        self.dag_runs = client.DagRunApi(self._api_client)
        self.task_instances = client.TaskInstanceApi(self._api_client)
        self.dags = client.DAGApi(self._api_client)
        self.xcoms = client.XComApi(self._api_client)
        self.import_errors = client.ImportErrorApi(self._api_client)

    def wait_for_dag(self, dag_id: str, timeout_s: float = 120, unpause: bool = True) -> None:
        """Until the DAG processor has parsed and serialized the DAG; unpause it (unless ``unpause=False``)."""
        import airflow_client.client as client

        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if unpause:
                    self.dags.patch_dag(dag_id, client.DAGPatchBody(is_paused=False))
                else:
                    self.dags.get_dag(dag_id)
                return
            except client.exceptions.NotFoundException:
                if time.monotonic() > deadline:
                    raise DataOpsError(f"DAG {dag_id} did not appear in Airflow within {timeout_s:.0f}s") from None
                time.sleep(0.5)

    def trigger(self, dag_id: str, run_id: str | None = None, conf: dict | None = None) -> str:
        import airflow_client.client as client

        body = client.TriggerDAGRunPostBody(dag_run_id=run_id, conf=conf or {}, logical_date=None)
        return self.dag_runs.trigger_dag_run(dag_id, body).dag_run_id

    def run(self, dag_id: str, run_id: str) -> RunInfo:
        return _run_info(self.dag_runs.get_dag_run(dag_id, run_id))

    def runs(self, dag_id: str) -> list[RunInfo]:
        """The DAG's runs (the last thousand)."""
        return [_run_info(r) for r in self.dag_runs.get_dag_runs(dag_id, limit=1000).dag_runs]

    def unfinished_runs(self) -> list[RunInfo]:
        """The queued and running runs of every DAG."""
        runs = []
        for state in ("queued", "running"):
            runs += [_run_info(r) for r in self.dag_runs.get_dag_runs("~", state=[state], limit=1000).dag_runs]
        return runs

    def dag_bundle_version(self, dag_id: str) -> str | None:
        """The bundle version the DAG processor last parsed the DAG from."""
        return self.dags.get_dag(dag_id).bundle_version

    def pause(self, dag_id: str, paused: bool = True) -> None:
        import airflow_client.client as client

        self.dags.patch_dag(dag_id, client.DAGPatchBody(is_paused=paused))

    def wait_for_run(self, dag_id: str, run_id: str, timeout_s: float = 600, poll_s: float = 0.25) -> RunInfo:
        """Until the run has finished: its state is checked every ``poll_s`` by the API server itself.

        Airflow's "wait" endpoint streams the run's state from one request and reads the
        dag_run row alone; polling GET dagRun instead loads every task instance of the run
        to list its DAG versions, which made the API server the busiest process of a local
        stack. A dropped stream (the server restarting) is opened again.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self._stream_until_finished(dag_id, run_id, poll_s, deadline)
            except (OSError, http.client.HTTPException, ValueError):
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
            info = self.run(dag_id, run_id)
            if info.state in FINISHED_RUN_STATES and info.end_date is not None:
                return info
            if time.monotonic() > deadline:
                raise DataOpsError(f"run {dag_id}/{run_id} still {info.state} after {timeout_s:.0f}s")
            time.sleep(poll_s)

    def _stream_until_finished(self, dag_id: str, run_id: str, interval_s: float, deadline: float) -> None:
        """Reads the wait endpoint's lines until one says the run finished, the stream ends or time is up."""
        from urllib.parse import quote

        url = f"{self.base_url}/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}/wait"
        request = urllib.request.Request(
            f"{url}?interval={interval_s}", headers={"Authorization": f"Bearer {self._token}"}
        )
        # A line comes every interval_s: a much longer silence is a dead connection.
        with urllib.request.urlopen(request, timeout=max(30.0, 10 * interval_s)) as response:
            for line in response:
                if line.strip() and json.loads(line).get("state") in FINISHED_RUN_STATES:
                    return
                if time.monotonic() > deadline:
                    return

    def tasks(self, dag_id: str, run_id: str) -> dict[str, TaskInfo]:
        found: dict[str, TaskInfo] = {}
        offset = 0
        while True:
            page = self.task_instances.get_task_instances(dag_id, run_id, limit=100, offset=offset)
            for ti in page.task_instances:
                state = getattr(ti.state, "value", ti.state)
                found[ti.task_id] = TaskInfo(
                    ti.task_id, state, ti.duration, ti.try_number, ti.start_date, ti.end_date
                )
            offset += len(page.task_instances)
            if not page.task_instances or offset >= page.total_entries:
                return found

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str) -> object:
        """An XCom's value as JSON (None when the task pushed none under ``key``)."""
        import airflow_client.client as client

        try:
            entry = self.xcoms.get_xcom_entry(dag_id, task_id, run_id, key, deserialize=True)
        except client.exceptions.NotFoundException:
            return None
        value = getattr(getattr(entry, "actual_instance", entry), "value", None)
        return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value

    def log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        """A task try's log as plain text (one line per record)."""
        return "\n".join(message for _, message in self.log_records(dag_id, run_id, task_id, try_number))

    def log_records(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> list[tuple[str, str]]:
        """A task try's log as (level, message) pairs; the level is "" where a record has none."""
        # Read as plain JSON: the client's typed records drop every field but event and timestamp.
        response = self.task_instances.get_log_without_preload_content(
            dag_id, run_id, task_id, try_number, full_content=True, accept="application/json"
        )
        if response.status != 200:
            raise DataOpsError(f"the log of {dag_id}/{run_id}/{task_id} try {try_number}: HTTP {response.status}")
        content = json.loads(response.data).get("content")
        if not isinstance(content, list):
            return [("", line) for line in str(content or "").splitlines()]
        records = []
        for item in content:
            if isinstance(item, dict):
                records.append((str(item.get("level") or ""), str(item.get("event", ""))))
            else:
                records.append(("", str(item)))
        return records

    def run_logs(self, dag_id: str, run_id: str, only_failed: bool = False) -> str:
        """The logs of a run's tasks (of its failed ones only if asked), failed ones first, one after the other."""
        tasks = sorted(self.tasks(dag_id, run_id).values(), key=lambda t: (t.state != "failed", t.task_id))
        return "\n".join(
            f"--- {t.task_id} ({t.state})\n" + self.log(dag_id, run_id, t.task_id, max(t.try_number, 1))
            for t in tasks
            if t.state == "failed" or not only_failed
        )

    def clear(
        self, dag_id: str, run_id: str, task_ids: list[str], downstream: bool = True, only_failed: bool = False
    ) -> list[str]:
        """Clear tasks of a run as the UI does; ``only_failed`` leaves tasks that did not fail alone."""
        import airflow_client.client as client

        body = client.ClearTaskInstancesBody(
            dag_run_id=run_id,
            dry_run=False,
            only_failed=only_failed,
            include_downstream=downstream,
            reset_dag_runs=True,
            task_ids=[client.ClearTaskInstancesBodyTaskIdsInner(t) for t in task_ids],
        )
        result = self.task_instances.post_clear_task_instances(dag_id, body)
        return sorted(ti.task_id for ti in result.task_instances)

    def plugin_json(self, path: str) -> object:
        """GET one of the platform plugin's JSON routes (``/dataops/api/...``), with this client's token."""
        import urllib.error

        request = urllib.request.Request(f"{self.base_url}{path}", headers={"Authorization": f"Bearer {self._token}"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            raise DataOpsError(f"GET {self.base_url}{path}: HTTP {exc.code}: {detail}") from None


def _run_info(r) -> RunInfo:
    return RunInfo(
        r.dag_run_id, str(getattr(r.state, "value", r.state)), r.start_date, r.end_date, r.bundle_version,
        getattr(r, "run_after", None),
    )


def access_token(base_url: str, username: str, password: str) -> str:
    """A JWT for the REST API from Airflow's own login endpoint (the simple auth manager's users)."""
    request = urllib.request.Request(
        f"{base_url}/auth/token",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["access_token"]
