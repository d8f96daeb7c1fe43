"""A thin layer over the official ``apache-airflow-client`` for the tests:
log in, trigger, wait, read task instances generically (whatever tasks the
DAG has today)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import airflow_client.client as af
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_run_api import DagRunApi
from airflow_client.client.api.import_error_api import ImportErrorApi
from airflow_client.client.api.task_instance_api import TaskInstanceApi

from dataops.local.api import access_token

TERMINAL_RUN_STATES = {"success", "failed"}


@dataclass
class TaskState:
    task_id: str
    state: str | None
    try_number: int
    duration: float | None


class Airflow:
    def __init__(self, url: str, user: str, password: str):
        self.url, self.user, self.password = url, user, password
        configuration = af.Configuration(host=url, access_token=access_token(url, user, password))
        self.client = af.ApiClient(configuration)
        self.dags = DAGApi(self.client)
        self.runs = DagRunApi(self.client)
        self.tasks = TaskInstanceApi(self.client)
        self.import_errors = ImportErrorApi(self.client)

    def wait_for_dag(self, dag_id: str, timeout_s: float = 180.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                self.dags.get_dag(dag_id)
                return
            except af.ApiException as exc:
                if exc.status != 404:
                    raise
            time.sleep(2)
        raise AssertionError(f"DAG {dag_id} did not appear within {timeout_s:.0f}s")

    def unpause(self, dag_id: str) -> None:
        self.dags.patch_dag(dag_id, af.DAGPatchBody(is_paused=False))

    def trigger(self, dag_id: str, run_id: str | None = None) -> str:
        run_id = run_id or f"test__{uuid.uuid4().hex[:10]}"
        body = af.TriggerDAGRunPostBody(dag_run_id=run_id, logical_date=None)
        return self.runs.trigger_dag_run(dag_id, body).dag_run_id

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.runs.get_dag_run(dag_id, run_id).state.value)

    def wait_for_run(self, dag_id: str, run_id: str, timeout_s: float = 300.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = self.run_state(dag_id, run_id)
            if state in TERMINAL_RUN_STATES:
                return state
            time.sleep(2)
        raise AssertionError(f"run {run_id} of {dag_id} did not finish within {timeout_s:.0f}s (state {state})")

    def task_states(self, dag_id: str, run_id: str) -> dict[str, TaskState]:
        found = self.tasks.get_task_instances(dag_id, run_id, limit=1000).task_instances
        return {
            ti.task_id: TaskState(ti.task_id, ti.state.value if ti.state else None, ti.try_number, ti.duration)
            for ti in found
        }

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        response = self.tasks.get_log(dag_id, run_id, task_id, try_number, full_content=True)
        content = response.content
        if hasattr(content, "actual_instance"):
            content = content.actual_instance
        if isinstance(content, list):
            return "\n".join(_event_text(e) for e in content)
        return str(content)

    def failed_logs(self, dag_id: str, run_id: str) -> str:
        """The logs of every failed task of a run, one after the other."""
        texts = []
        for task in self.task_states(dag_id, run_id).values():
            if task.state == "failed":
                texts.append(f"--- {task.task_id}\n" + self.task_log(dag_id, run_id, task.task_id, max(task.try_number, 1)))
        return "\n".join(texts)

    def run_logs(self, dag_id: str, run_id: str) -> str:
        """The logs of every task of a run (failed ones first): the error may be
        reported by the task that ran dbt rather than by the model's own task."""
        tasks = sorted(self.task_states(dag_id, run_id).values(), key=lambda t: t.state != "failed")
        return "\n".join(
            f"--- {t.task_id} ({t.state})\n" + self.task_log(dag_id, run_id, t.task_id, max(t.try_number, 1))
            for t in tasks
        )

    def runs_of(self, dag_id: str) -> list:
        return self.runs.get_dag_runs(dag_id, limit=100).dag_runs

    def wait_until_idle(self, dag_id: str, timeout_s: float = 300.0) -> None:
        """Waits until no run of ``dag_id`` is queued or running."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(str(r.state.value) in TERMINAL_RUN_STATES for r in self.runs_of(dag_id)):
                return
            time.sleep(2)
        raise AssertionError(f"runs of {dag_id} still active after {timeout_s:.0f}s")


def _event_text(event) -> str:
    if hasattr(event, "actual_instance"):
        event = event.actual_instance
    if hasattr(event, "event"):
        return str(event.event)
    return str(event)
