"""The triggerer's per-task work for a model task does not grow with the DAG's size.

Airflow 3.3.2's own ``TriggerRunnerSupervisor._create_workload`` and
``TriggerRunner.create_runtime_ti`` run here, on DAGs of 50 and 1,000 model
tasks serialized as the DAG processor stores them; only the metadata
database's rows are stand-ins. Nothing is timed: the bytes each workload
carries and the whole-DAG deserializations are counted.
"""

from __future__ import annotations

import datetime
import uuid
from types import SimpleNamespace

import pytest

from dataops.airflow import triggerer_workloads
from dataops.dbt.graph import DbtGraph, DbtNode


def _graph(n: int) -> DbtGraph:
    """n models, each reading the one before it and one further up (a deep, fanned-in DAG)."""
    nodes = {}
    for i in range(n):
        name = f"m{i:04d}"
        parents = sorted({f"model.syn.m{j:04d}" for j in (i - 1, i // 2) if 0 <= j < i})
        nodes[f"model.syn.{name}"] = DbtNode(
            f"model.syn.{name}", name, "model", "syn", ("syn", name), f"models/{name}.sql", depends_on=tuple(parents)
        )
    return DbtGraph("syn", "fingerprint", nodes, {})


class _Model:
    """A SerializedDagModel row as the triggerer reads it; counts whole-DAG deserializations."""

    def __init__(self, data: dict):
        self.data, self.dag_version_id, self.dag_hash = data, uuid.uuid4(), uuid.uuid4().hex
        self.deserialized = 0

    @property
    def dag(self):
        from airflow.serialization.serialized_objects import DagSerialization

        self.deserialized += 1
        return DagSerialization.from_dict(self.data)


class _DagBag:
    """DBDagBag's answers for one DAG version; counts the loads of its whole row."""

    def __init__(self, model: _Model):
        self.model, self.loads = model, 0

    @staticmethod
    def _version_from_dag_run(dag_run, *, session):
        return dag_run.version_id

    def _current_dag_hash(self, version_id, session):
        return self.model.dag_hash

    def get_serialized_dag_model_for_run(self, dag_run, *, session):
        self.loads += 1
        return self.model

    def get_serialized_dag_model(self, version_id, session):
        self.loads += 1
        return self.model


def _serialized(n: int) -> tuple[_Model, list[str]]:
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization

    from dataops.airflow.factory.dag import add_dbt_tasks

    with DAG(dag_id=f"models_{n}", schedule=None, start_date=datetime.datetime(2024, 1, 1)) as dag:
        tasks = add_dbt_tasks(_graph(n), project_dir="/nowhere", graph_path="/nowhere/target/dataops_graph.json")
    return _Model(DagSerialization.to_dict(dag)), [t.task_id for t in tasks.values()]


def _trigger(dag_id: str, task_id: str, version_id) -> SimpleNamespace:
    from airflow.api_fastapi.execution_api.datamodels.taskinstance import DagRun

    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    run = DagRun(dag_id=dag_id, run_id="r1", logical_date=None, data_interval_start=None, data_interval_end=None,
                 run_after=now, start_date=now, end_date=None, run_type="manual", state="running",
                 consumed_asset_events=[], partition_key=None)
    ti = SimpleNamespace(
        id=uuid.uuid4(), task_id=task_id, dag_id=dag_id, run_id="r1", try_number=1, map_index=-1, pool_slots=1,
        queue="default", priority_weight=1, dag_version_id=version_id, trigger_timeout=None, parent_context_carrier={},
        context_carrier={},
    )
    ti.get_dagrun = lambda session: SimpleNamespace(dag_run_data=run, version_id=version_id)
    return SimpleNamespace(id=1, classpath="dataops.airflow.triggers.DbtNodeTrigger", encrypted_kwargs="",
                           task_instance=ti)


def _workloads(model: _Model, task_ids: list[str], create, dag_bag: _DagBag | None = None):
    supervisor = SimpleNamespace(job=SimpleNamespace(id=1), id=1, logger_cache={})
    dag_id, dag_bag = model.data["dag"]["dag_id"], dag_bag or _DagBag(model)
    return [create(supervisor, _trigger(dag_id, t, model.dag_version_id), dag_bag, lambda ti: "log", None)
            for t in task_ids]


def _bytes(workload) -> int:
    """What the supervisor sends its trigger runner for this workload (Airflow's comms frame encoding)."""
    import msgspec

    return len(msgspec.msgpack.encode(workload.model_dump(mode="json")))


@pytest.fixture(scope="module")
def runner_module():
    from airflow.jobs import triggerer_job_runner

    assert triggerer_workloads.patch(triggerer_job_runner), triggerer_workloads.changed_internals()
    return triggerer_job_runner


def test_the_pinned_airflow_is_the_one_the_fixes_were_written_for():
    """Fails, naming each function, when an Airflow upgrade changes code the fix relies on:
    read the new code, adapt dataops.airflow.triggerer_workloads (and its patch), update RELIES_ON."""
    from dataops.airflow import triggerer_comms

    assert triggerer_workloads.changed_internals() == []
    assert triggerer_comms.changed_internals() == []


def test_each_model_tasks_workload_carries_its_own_task_whatever_the_dags_size(runner_module):
    create = runner_module.TriggerRunnerSupervisor._create_workload
    original = create.__wrapped__
    sizes, airflows, deserialized, loads = {}, {}, {}, {}
    for n in (50, 1000):
        model, task_ids = _serialized(n)
        picked = task_ids[:: max(1, n // 50)][:50]
        dag_bag = _DagBag(model)
        workloads = _workloads(model, picked, create, dag_bag)
        assert all(w.dag_data is not None for w in workloads)
        sizes[n] = max(_bytes(w) for w in workloads)
        deserialized[n], loads[n] = model.deserialized, dag_bag.loads
        airflows[n] = _bytes(_workloads(model, picked[:1], original)[0])

    # Airflow's own workload carries the whole DAG: 20 times the tasks, more than 10 times the bytes.
    assert airflows[1000] > 10 * airflows[50], airflows
    # Ours: the same few kilobytes at 50 and at 1,000 models (task ids are as long in both).
    assert sizes[1000] <= sizes[50] + 64 and sizes[1000] < 4096, sizes
    # The supervisor loads and deserializes each DAG version once, not once per trigger.
    assert deserialized == {50: 1, 1000: 1} and loads == {50: 1, 1000: 1}


def test_the_runner_builds_the_same_task_from_the_one_task_workload(runner_module):
    """The trigger's task instance, task, trigger arguments and context are what Airflow's whole DAG gives."""
    model, task_ids = _serialized(200)
    task_id = task_ids[150]
    create = runner_module.TriggerRunnerSupervisor._create_workload
    ours = _workloads(model, [task_id], create)[0]
    theirs = _workloads(model, [task_id], create.__wrapped__)[0]
    assert len(ours.dag_data["dag"]["tasks"]) == 1 and len(theirs.dag_data["dag"]["tasks"]) == 202

    built = {}
    for name, workload in (("ours", ours), ("theirs", theirs)):
        ti = runner_module.TriggerRunner.create_runtime_ti(workload.ti, workload.dag_data, workload.dag_run_data)
        context = ti.get_template_context()
        built[name] = (ti.task_id, ti.dag_id, ti.run_id, ti.try_number, ti.max_tries, ti.task.start_from_trigger,
                       ti.task.trigger_rule, ti.task.start_trigger_args, context["dag_run"].run_id,
                       context["task"].task_id, context["dag"].dag_id)
    assert built["ours"] == built["theirs"]


def test_a_task_not_in_the_dag_or_mapped_keeps_airflows_workload():
    model, task_ids = _serialized(5)
    assert triggerer_workloads.one_task_dag_data(model.data, "no_such_task") is None
    mapped = {**model.data, "dag": {**model.data["dag"], "tasks": [
        {"__type": "operator", "__var": {"task_id": "fan", "_is_mapped": True}}]}}
    assert triggerer_workloads.one_task_dag_data(mapped, "fan") is None
    assert triggerer_workloads.one_task_dag_data({"__version": 2, "dag": {}}, task_ids[0]) is None


def test_every_airflow_process_of_a_stack_loads_the_fix(tmp_path):
    """The stacks write airflow_local_settings.py into Airflow's home; the image copies its own; both
    import dataops.airflow.local_settings, which patches the triggerer's module when it is imported."""
    import subprocess
    import sys
    from pathlib import Path

    from dataops.local.airflow_env import write_local_settings

    path = write_local_settings(tmp_path / "home")
    assert path == tmp_path / "home" / "config" / "airflow_local_settings.py"
    image = Path(__file__).parents[2] / "infra/images/airflow/airflow_local_settings.py"
    assert "import dataops.airflow.local_settings" in image.read_text()
    probe = (
        "import sys; sys.path.append(sys.argv[1]); import airflow_local_settings\n"
        "from airflow.jobs import triggerer_job_runner as t\n"
        "print(getattr(t.TriggerRunnerSupervisor._create_workload, '__dataops_one_task_workload__', False),"
        " getattr(t.TriggerRunnerSupervisor.send_msg, '__dataops_draining_send__', False))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(path.parent)], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "True True", done.stdout[-2000:] + done.stderr[-2000:]
