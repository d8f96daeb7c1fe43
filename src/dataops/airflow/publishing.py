"""Test-gated publish from a DAG run's tasks (the guarantee itself is ``dataops.wap``).

``DbtDag(publish=...)``:

- ``auto`` (the default): ``per_run`` when the project builds under the
  profile's schema (``DATAOPS_MODELS_SCHEMA``, as the platform's profile
  does), else ``direct``, which the ``dbt_build`` task's log then says, with why;
- ``per_run``: the run builds into its own place and, once every
  model and test of the DAG has passed, all of them become production in one
  transaction (by ``dbt_build`` when its one dbt process built everything, else
  by ``dbt_done`` on a worker, after cleared tasks rebuilt what had failed);
- ``per_model``: the same place, but each model is published once it and
  everything it reads in the DAG passed: a failure holds back only its own
  branch (published when dbt has exited, in one transaction);
- ``direct``: dbt builds straight into production, tests after (plain ``dbt build``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dataops.config import Settings
    from dataops.dbt.graph import DbtGraph
    from dataops.wap.place import RunPlace

PUBLISH_MODES = ("auto", "per_run", "per_model", "direct")


def check_mode(publish: str) -> str:
    if publish not in PUBLISH_MODES:
        raise ValueError(f"DbtDag(publish={publish!r}): use one of {', '.join(map(repr, PUBLISH_MODES))}")
    return publish


def resolve_mode(publish: str, graph: DbtGraph, unique_ids: Collection[str]) -> tuple[str, str]:
    """The mode a DAG's tasks use, and why ``auto`` fell back to ``direct`` ("" otherwise): decided
    from the compiled graph when the DAG file is parsed, no warehouse asked. An explicit test-gated
    mode that the project cannot keep is refused (DbtError naming the model)."""
    from dataops.errors import DbtError
    from dataops.wap.place import PublishError, check_buildable

    check_mode(publish)
    if publish == "direct":
        return "direct", ""
    try:
        check_buildable(graph, unique_ids)
    except PublishError as exc:
        if publish == "auto":
            return "direct", f"not test-gated (publish=\"auto\"): {exc}"
        raise DbtError(str(exc)) from None
    return ("per_run" if publish == "auto" else publish), ""


@dataclass(frozen=True)
class RunPublish:
    """A DAG run's place and its models' relations (what its tasks build and publish)."""

    settings: Settings
    place: RunPlace
    graph: DbtGraph
    unique_ids: tuple[str, ...]

    @classmethod
    def of(cls, ti, dag_run, graph, unique_ids: Collection[str], claim: bool = False) -> RunPublish:
        """The run's place: claimed (the run's build), or the one it holds (a cleared task, dbt_done)."""
        from dataops.airflow.executors.base import BundleRef
        from dataops.airflow.runtime import runtime_settings
        from dataops.wap.place import PublishError, RunPlace
        from dataops.wap.publisher import Publisher

        settings = runtime_settings()
        bundle = BundleRef.of(ti)
        run_after = getattr(dag_run, "run_after", None) or getattr(dag_run, "logical_date", None)
        place = RunPlace(
            ti.dag_id, ti.run_id, run_after.isoformat() if run_after else ti.run_id,
            bundle.version if bundle else "working tree", settings.models_schema,
        )
        publisher = Publisher(settings)
        held = publisher.claim(place) if claim else publisher.find(place)
        if held is None:
            raise PublishError(
                f"run {ti.run_id} has no place of its own any more: a later run of {ti.dag_id} published, and "
                "its place was cleaned up or given to another run. Trigger a new run."
            )
        return cls(settings, held, graph, tuple(unique_ids))

    def items(self, unique_ids: Collection[str] | None = None):
        from dataops.wap.place import publishables

        return publishables(self.graph, self.unique_ids if unique_ids is None else unique_ids, self.place)

    def defer_args(self, project_dir: str | None) -> tuple[str, ...]:
        """dbt's flags for a DAG that reads models outside it: those resolve to production (the
        manifest ``dataops dbt manifest`` compiled), as they are not in the run's place."""
        from pathlib import Path

        from dataops.wap.place import reads_outside

        if not reads_outside(self.graph, self.unique_ids):
            return ()
        project = Path(project_dir or self.settings.dbt_project_dir)
        return ("--defer", "--state", str(project / "target"))

    def publisher(self):
        from dataops.wap.publisher import Publisher

        return Publisher(self.settings)

    def prepare(self, log) -> None:
        for note in self.publisher().prepare(self.place, self.items()):
            log.info("%s", note)
        log.info("building into the run's place, schema %s; production is unchanged until it is published",
                 self.place.schema)

    def publish(self, unique_ids: Collection[str] | None = None, cleanup: bool = True):
        return self.publisher().publish(self.place, self.items(unique_ids), cleanup=cleanup)

    def cleanup(self, log) -> None:
        """Drops the old run places a publish left (what ``publish(cleanup=False)`` did not); a failure
        is only logged: the publish stands, and the next one tries again."""
        try:
            dropped = self.publisher().cleanup(self.place)
        except Exception as exc:  # noqa: BLE001
            log.warning("could not drop the old run places of %s (the next publish tries again): %s",
                        self.place.pipeline, exc)
            return
        if dropped:
            log.info("dropped %d old run place(s): %s", len(dropped), ", ".join(dropped))


def publishable_now(graph: DbtGraph, unique_ids: Collection[str], states: Mapping[str, str | None]) -> list[str]:
    """``per_model``: the nodes that succeeded and whose upstream in the DAG all succeeded too."""
    chosen = set(unique_ids)
    ok: dict[str, bool] = {}

    def passed(uid: str) -> bool:
        if uid not in ok:
            ok[uid] = states.get(uid) == "success" and all(
                passed(d) for d in graph.nodes[uid].depends_on if d in chosen
            )
        return ok[uid]

    return [uid for uid in graph.nodes if uid in chosen and passed(uid)]


def publish_run(wap, mode: str, node_states: dict, log, cleanup: bool = True) -> dict:
    """Publishes what ``mode`` allows of a run whose nodes ended in ``node_states`` (unique_id -> state);
    the publication the run's report and ``dbt_done`` give. ``cleanup=False`` leaves the old run places
    for the caller's ``wap.cleanup(log)``, once the publication is reported."""
    from dataops.errors import DataOpsError

    failed = sorted(uid for uid, state in node_states.items() if state != "success")
    ready = list(node_states) if mode == "per_run" else publishable_now(wap.graph, node_states, node_states)
    if (failed and mode == "per_run") or not ready:
        shown = ", ".join(failed[:10])
        message = (f"nothing published: {len(failed)} dbt node(s) did not pass ({shown}); production keeps "
                   "its last good version. Fix and clear the failed task: its rebuild goes into this run's place.")
        log.warning("%s", message)
        return {"state": "held", "message": message}
    try:
        published = wap.publish(ready, cleanup=cleanup)
    except DataOpsError as exc:
        log.error("publish failed, production is unchanged: %s", exc)
        return {"state": "failed", "message": f"publish failed, production is unchanged: {exc}"}
    except Exception as exc:  # noqa: BLE001  (the warehouse's own error: say it, production is unchanged)
        log.exception("publish failed, production is unchanged")
        return {"state": "failed", "message": f"publish failed, production is unchanged: {exc}"}
    message = published.describe()
    if failed:
        message += f"; held back: {', '.join(failed[:10])} and what reads them"
    log.info("%s", message)
    return {"state": "published", "message": message}
