"""The triggerer's workload for a ``start_from_trigger`` task carries that task, not its whole DAG.

Airflow 3.3.2's triggerer, for each trigger of a task that starts in the
triggerer (``TriggerRunnerSupervisor._create_workload``), deserializes the
task's whole DAG to look the task up (``SerializedDagModel.dag`` deserializes
on every access), then sends the whole serialized DAG (``dag_data``) to its
trigger runner process, which deserializes it again
(``TriggerRunner.create_runtime_ti``) and keeps that copy for as long as the
trigger runs. A run of a DAG of N such tasks costs N whole-DAG
deserializations in each of the two processes and holds N copies of the DAG:
the work grows with N², and a run of 1,000 models stalls.

The fix, narrow: the supervisor deserializes a DAG version once (cached by
version and hash) and sends a serialized DAG that holds only the trigger's
own task (its DAG-level fields, without the other tasks, the task group tree
and the edges), so the runner deserializes one task per trigger. Nothing else
of Airflow changes; the trigger's task instance, its context and its
templated fields are built from the same task definition as before. Mapped
tasks (whose expansion refers to other tasks) keep Airflow's whole-DAG
workload. ``patches/airflow-triggerer-one-task-workload.patch`` is the same
change to Airflow itself.

Every Airflow process of the platform imports ``dataops.airflow.local_settings``
(``airflow_local_settings.py`` of its home, or of the image), which calls
:func:`install`: the triggerer's module is patched when it is imported, which
only the triggerer does. :func:`install` checks that the pinned Airflow's code
it relies on is the code it was written against (:data:`RELIES_ON`); when it
is not, it logs why and leaves Airflow as it is (correct, only slower), and
``tests/airflow/test_triggerer_workloads.py`` fails, naming what changed
(see dataops.airflow.patching).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from dataops.airflow import patching

log = logging.getLogger(__name__)

TRIGGERER_MODULE = "airflow.jobs.triggerer_job_runner"
# sha256 of the source of each Airflow function this module relies on, as of
# the pinned Airflow (dataops.airflow.patching): what _create_workload does
# with its dag_bag (the two lookups, and only .dag and .data of what they
# return), how DBDagBag resolves a run's version and checks a version's hash,
# what the runner does with dag_data, and the serialized DAG's layout that
# one_task_dag_data prunes.
RELIES_ON = {
    "airflow.jobs.triggerer_job_runner:TriggerRunnerSupervisor._create_workload": "3cc2cff157f57a8084226ca9171d68568be5a018d70b8a14739dc24ad5287cce",
    "airflow.jobs.triggerer_job_runner:TriggerRunner.create_runtime_ti": "af65ff8b8d100ff63424f82ad4bf92d4b5e5c8e1f9082486892b8615949aa192",
    "airflow.models.serialized_dag:SerializedDagModel.dag": "94e969acb19fef9fe6ea09ed0fd12771bdb5a07184f378ef330d711c8b84019a",
    "airflow.serialization.serialized_objects:DagSerialization._deserialize_dag_internal": "5ecdbd2a1bf61dfa91fb90a118752d643c4f704d8098f103d09e29228d02f3ac",
    "airflow.serialization.serialized_objects:OperatorSerialization.set_task_dag_references": "a65d38f6dee6c902beca685e701d83c5b7cc243356654e8fea0b05aa93f2af32",
    "airflow.models.dagbag:DBDagBag.get_serialized_dag_model_for_run": "6dd0e4ace35badd97648b65373a4ff36c9c324493ca032e23e34528bdaffaaa0",
    "airflow.models.dagbag:DBDagBag.get_serialized_dag_model": "5427cf251b137338663bcf0a09a3f67cf4b5d822a54e67622e972ac2fcb3d2a6",
    "airflow.models.dagbag:DBDagBag._version_from_dag_run": "61890cc6412233e02fce6db885bc40d4e6866446334295aa0b5f0b6794707a8d",
    "airflow.models.dagbag:DBDagBag._current_dag_hash": "1023e67476932d87d2ceba58cd2ba85df39ae4193e4dfe38bce79715b7584917",
}
# Keys of a serialized DAG whose size grows with its number of tasks; a
# one-task DAG needs none of them (without "task_group" the task joins the
# root group, as Airflow does for old data).
_PER_TASK_DAG_KEYS = frozenset({"tasks", "task_group", "edge_info"})
# DAG versions kept deserialized by the triggerer (the runs in flight use a few).
_CACHED_VERSIONS = 8

_PATCHED = "__dataops_one_task_workload__"


def changed_internals() -> list[str]:
    """What differs from the Airflow this fix was written for: empty when it applies."""
    return patching.changed(RELIES_ON)


def one_task_dag_data(data: dict, task_id: str) -> dict | None:
    """The serialized DAG ``data`` with only ``task_id`` in it; None when it has no such plain task."""
    index = _TaskIndex.build(data)
    return index.one_task(task_id) if index is not None else None


class _TaskIndex:
    """A serialized DAG split into its DAG-level fields and each task's serialized entry."""

    __slots__ = ("envelope", "dag_fields", "tasks")

    def __init__(self, envelope: dict, dag_fields: dict, tasks: dict[str, dict]):
        self.envelope, self.dag_fields, self.tasks = envelope, dag_fields, tasks

    @classmethod
    def build(cls, data: dict) -> _TaskIndex | None:
        dag = data.get("dag") if isinstance(data, dict) else None
        if data.get("__version") != 3 or not isinstance(dag, dict) or not isinstance(dag.get("tasks"), list):
            return None
        tasks = {}
        for entry in dag["tasks"]:
            var = entry.get("__var") if isinstance(entry, dict) else None
            if entry.get("__type") == "operator" and isinstance(var, dict) and "task_id" in var:
                tasks[var["task_id"]] = entry
        envelope = {k: v for k, v in data.items() if k != "dag"}
        dag_fields = {k: v for k, v in dag.items() if k not in _PER_TASK_DAG_KEYS}
        return cls(envelope, dag_fields, tasks)

    def one_task(self, task_id: str) -> dict | None:
        entry = self.tasks.get(task_id)
        if entry is None or entry["__var"].get("_is_mapped") or "expand_input" in entry["__var"]:
            return None
        # Its downstream tasks are not in this DAG: set_task_dag_references would look them up.
        var = {k: v for k, v in entry["__var"].items() if k != "downstream_task_ids"}
        return {**self.envelope, "dag": {**self.dag_fields, "tasks": [{**entry, "__var": var}]}}


class _Version:
    """One DAG version as the triggerer needs it: deserialized once, and split by task."""

    __slots__ = ("dag", "data", "index")

    def __init__(self, dag, data: dict, index: _TaskIndex | None):
        self.dag, self.data, self.index = dag, data, index


class _VersionCache:
    """DAG versions by (dag_version_id, dag_hash): a version rewritten in place gets a new hash."""

    def __init__(self, size: int = _CACHED_VERSIONS):
        self.size = size
        self.entries: OrderedDict[tuple[str, str], _Version] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, version_id, dag_hash) -> _Version | None:
        key = (str(version_id), str(dag_hash))
        with self.lock:
            version = self.entries.get(key)
            if version is not None:
                self.entries.move_to_end(key)
            return version

    def add(self, model) -> _Version:
        data = model.data
        version = _Version(model.dag, data, _TaskIndex.build(data))
        with self.lock:
            self.entries[(str(model.dag_version_id), str(model.dag_hash))] = version
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return version


_versions = _VersionCache()


class _OneTaskModel:
    """A SerializedDagModel as _create_workload reads it: ``dag`` (deserialized once) and ``data`` of one task."""

    __slots__ = ("_version", "_task_id")

    def __init__(self, version: _Version, task_id: str):
        self._version, self._task_id = version, task_id

    @property
    def dag(self):
        return self._version.dag

    @property
    def data(self) -> dict:
        index = self._version.index
        pruned = index.one_task(self._task_id) if index is not None else None
        return pruned if pruned is not None else self._version.data


class _OneTaskDagBag:
    """The DBDagBag given to _create_workload, answering for one trigger's task.

    A version already seen costs one small query (its current hash) instead of
    loading and decoding its whole serialized DAG again, as DBDagBag's
    ``get_serialized_dag_model`` does for every trigger.
    """

    def __init__(self, dag_bag, task_id: str):
        self._dag_bag, self._task_id = dag_bag, task_id

    def get_serialized_dag_model_for_run(self, dag_run, *, session):
        version_id = self._dag_bag._version_from_dag_run(dag_run=dag_run, session=session)
        if not version_id:
            return None
        return self.get_serialized_dag_model(version_id=version_id, session=session)

    def get_serialized_dag_model(self, version_id, session):
        version = _versions.get(version_id, self._dag_bag._current_dag_hash(version_id, session))
        if version is None:
            model = self._dag_bag.get_serialized_dag_model(version_id=version_id, session=session)
            if model is None:
                return None
            version = _versions.add(model)
        return _OneTaskModel(version, self._task_id)

    def __getattr__(self, name: str):
        return getattr(self._dag_bag, name)


def patch(module) -> bool:
    """Patch ``TriggerRunnerSupervisor._create_workload`` of the triggerer's ``module``; False when it must not."""
    supervisor = module.TriggerRunnerSupervisor
    if getattr(supervisor._create_workload, _PATCHED, False):
        return True
    found = changed_internals()
    if found:
        patching.refuse(__name__, found, "Triggers of start_from_trigger tasks keep Airflow's whole-DAG workloads, "
                        "whose cost grows with the square of a DAG's size.")
        return False
    original = supervisor._create_workload

    def _create_workload(self, trigger, dag_bag, render_log_fname, session):
        ti = trigger.task_instance
        if ti is not None:
            dag_bag = _OneTaskDagBag(dag_bag, ti.task_id)
        return original(self, trigger, dag_bag, render_log_fname, session)

    _create_workload.__wrapped__ = original
    setattr(_create_workload, _PATCHED, True)
    supervisor._create_workload = _create_workload
    log.info("dataops: the triggerer's workloads of start_from_trigger tasks carry their own task (%s)", __name__)
    return True


def install() -> None:
    """Apply the fix in this process: now if the triggerer's module is loaded, else when it is."""
    patching.on_import(TRIGGERER_MODULE, patch)
