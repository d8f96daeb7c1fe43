"""The DAG factory: a dbt project's compiled graph as Airflow tasks.

    from dataops.airflow.factory import DbtDag

    dag = DbtDag(dag_id="marts_daily", project_dir="analytics/dbt", select=["tag:daily"], schedule="@daily")

gives one task per model, seed, snapshot and tested source (tests attached),
the manifest's dependencies between them, the ``dbt_build`` task that runs dbt
once for the run, and ``dbt_done``, the run's verdict. Reading the graph
artifact and building the tasks is all a parse does: no dbt, no warehouse,
no settings. The same artifact always gives the same DAG (stable order, no
timestamps), so Airflow does not record a new DAG version at every parse.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from airflow.sdk import DAG, BaseOperator

from dataops.airflow.naming import PRODUCER_TASK_ID, SUMMARY_TASK_ID, task_ids_for
from dataops.airflow.operators.node import DbtNodeOperator, DbtSummaryOperator
from dataops.airflow.operators.producer import DbtProducerOperator
from dataops.dbt.graph import DbtGraph
from dataops.dbt.profile import DbtProfile
from dataops.dbt.selection import select_nodes
from dataops.errors import DbtError


def DbtDag(  # noqa: N802  (reads like the DAG it builds)
    *,
    dag_id: str,
    project_dir: str | os.PathLike | None = None,
    graph_path: str | os.PathLike | None = None,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    threads: int | None = None,
    profiles_dir: str | os.PathLike | None = None,
    profile: str | None = None,
    target: str | None = None,
    check_fresh: bool = True,
    concurrent_builds: int = 1,
    publish: str = "auto",
    **dag_kwargs,
) -> DAG:
    """A DAG for the nodes of one dbt project picked by ``select``/``exclude``.

    The project is ``project_dir``; by default, for a DAG file of a
    published bundle, that bundle's ``dbt`` folder (so a run reads the
    project of its own bundle version); elsewhere ``DATAOPS_DBT_PROJECT_DIR``,
    else the ``dbt`` folder beside the DAG file's folder (``analytics/dbt``
    beside ``analytics/dags``), else the checkout's ``analytics/dbt``.

    dbt runs with the project's own ``profiles.yml`` and its default target
    (the platform's profile when the project has none); ``profiles_dir``,
    ``profile`` and ``target`` name others, as dbt's flags of those names do.

    ``concurrent_builds`` is how many runs of the DAG may run dbt at the same
    time: one by default, because two builds of the same models on the same
    target collide (DuckDB allows one writer; elsewhere both swap the same
    relations). Later runs queue at their ``dbt_build`` task.

    ``publish`` is how the run's models reach production: ``per_run`` builds
    and tests them in a schema of the run's own and publishes them all in one
    atomic step when every test passed; ``per_model`` publishes each model
    once it and everything it reads passed; ``direct`` builds straight into
    production; ``auto`` (the default) is ``per_run`` for a project that
    builds under the profile's schema, else ``direct`` (see
    dataops.airflow.publishing).
    """
    from dataops.airflow.publishing import check_mode

    check_mode(publish)
    project = Path(project_dir) if project_dir else default_project_dir(_caller_file())
    graph_file = Path(graph_path) if graph_path else project / "target" / "dataops_graph.json"
    graph = load_graph(graph_file, project if check_fresh else None)
    dag_kwargs.setdefault("tags", ["dbt"])
    with DAG(dag_id=dag_id, **dag_kwargs) as dag:
        add_dbt_tasks(
            graph,
            project_dir=str(project),
            graph_path=str(graph_file),
            select=select,
            exclude=exclude,
            threads=threads,
            profile=DbtProfile(profiles_dir, profile, target),
            concurrent_builds=concurrent_builds,
            publish=publish,
        )
    return dag


def load_graph(graph_file: Path, project_dir: Path | None) -> DbtGraph:
    """The graph artifact, refused when the project changed since it was compiled."""
    graph = DbtGraph.read(graph_file)
    if project_dir is not None:
        from dataops.dbt.fingerprint import matches

        if not matches(project_dir, graph_file, graph.fingerprint):
            raise DbtError(
                f"{graph_file} is out of date: the dbt project in {project_dir} changed since it was "
                f"compiled. Run `dataops dbt manifest --project-dir {project_dir}`."
            )
    return graph


def add_dbt_tasks(
    graph: DbtGraph,
    *,
    project_dir: str,
    graph_path: str,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    threads: int | None = None,
    profile: DbtProfile | None = None,
    concurrent_builds: int = 1,
    publish: str = "auto",
) -> dict[str, DbtNodeOperator]:
    """Add the dbt tasks to the DAG being defined; returns unique_id -> task."""
    from dataops.airflow.publishing import resolve_mode

    chosen = select_nodes(graph, select, exclude)
    if not chosen:
        raise DbtError(f"the selection {list(select)} minus {list(exclude)} matches no dbt node")
    publish, publish_note = resolve_mode(publish, graph, chosen)
    nodes = [node for uid, node in graph.nodes.items() if uid in chosen]  # topological order
    task_ids = task_ids_for(nodes)

    producer = DbtProducerOperator(
        task_id=PRODUCER_TASK_ID,
        nodes={task_ids[n.unique_id]: (n.unique_id, n.selector) for n in nodes},
        select=select,
        exclude=exclude,
        project_dir=project_dir,
        graph_path=graph_path,
        profile=profile,
        threads=threads,
        max_active_tis_per_dag=concurrent_builds,
        publish=publish,
        publish_note=publish_note,
    )
    tasks: dict[str, DbtNodeOperator] = {}
    for node in nodes:
        upstream = [tasks[d] for d in node.depends_on if d in tasks]
        task = DbtNodeOperator(
            task_id=task_ids[node.unique_id],
            unique_id=node.unique_id,
            selector=node.selector,
            producer_task_id=PRODUCER_TASK_ID,
            upstream_node_task_ids=[t.task_id for t in upstream],
            project_dir=project_dir,
            graph_path=graph_path,
            profile=profile,
            publish=publish,
            doc_md=_doc(node),
        )
        _link(task, upstream or [producer])
        tasks[node.unique_id] = task

    children = {d for node in nodes for d in node.depends_on if d in tasks}
    leaves = [tasks[uid] for uid in tasks if uid not in children]
    summary = DbtSummaryOperator(
        task_id=SUMMARY_TASK_ID,
        node_task_ids=[t.task_id for t in tasks.values()],
        node_unique_ids=list(tasks),
        producer_task_id=PRODUCER_TASK_ID,
        project_dir=project_dir,
        graph_path=graph_path,
        profile=profile,
        publish=publish,
    )
    _link(summary, leaves)
    return tasks


def _link(task: BaseOperator, upstream: Sequence[BaseOperator]) -> None:
    """``task.set_upstream(upstream)`` for tasks already in the same DAG.

    set_upstream hashes the DAG on every call to check that both ends share
    it, and a DAG's hash walks all its task ids: a thousand edges cost
    ~0.15 s. Here every task is created inside the one DAG, so the check
    cannot fail; what remains is recording the edge on both ends.
    """
    task.upstream_task_ids.update(t.task_id for t in upstream)
    for parent in upstream:
        parent.downstream_task_ids.add(task.task_id)


def _doc(node) -> str:
    tests = f"{len(node.tests)} tests" if node.tests else "no tests"
    return (f"dbt {node.resource_type} `{node.unique_id}` ({node.path}), {tests}. This task waits from the start "
            "of the run, so its Airflow duration does too: dbt's own start, end and time for it are the last line "
            "of its log and on the run's \"dbt timeline\" tab.")


def default_project_dir(dag_file: str | None) -> Path:
    """The project a DAG file builds when it names none (see :func:`DbtDag`)."""
    from dataops.delivery.bundle import DBT, INFO_FILE

    beside = Path(dag_file).parent.parent if dag_file else None
    if beside is not None and (beside / INFO_FILE).is_file():
        return beside / DBT  # a published bundle's DAG file builds that bundle's project, always
    configured = os.environ.get("DATAOPS_DBT_PROJECT_DIR")
    if configured:
        return Path(configured)
    if beside is not None and (beside / "dbt" / "dbt_project.yml").is_file():
        return beside / "dbt"
    from dataops import paths

    return paths.dbt_project_dir()


def _caller_file() -> str | None:
    """The file of the code that called DbtDag (the DAG file, as Airflow's own DAG does)."""
    frame = sys._getframe(2)
    return frame.f_globals.get("__file__")
