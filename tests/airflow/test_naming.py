from airflow.sdk import DAG

from dataops.airflow.factory.dag import add_dbt_tasks
from dataops.airflow.naming import PRODUCER_TASK_ID, RESERVED_TASK_IDS, SUMMARY_TASK_ID, task_ids_for
from dataops.dbt.graph import DbtGraph, DbtNode


def _node(uid, name, kind="model", source_name="", depends_on=()):
    return DbtNode(
        uid, name, kind, "p", ("p", name), f"models/{name}.sql", source_name=source_name, depends_on=depends_on
    )


def test_dots_and_odd_characters_become_underscores():
    ids = task_ids_for([_node("model.p.top_99.9_pct", "top_99.9_pct"), _node("model.p.caf\u00e9 x", "caf\u00e9 x")])
    assert ids == {"model.p.top_99.9_pct": "top_99_9_pct", "model.p.caf\u00e9 x": "caf_x"}


def test_collisions_get_stable_suffixes():
    nodes = [_node("model.p.a.b", "a.b"), _node("model.p.a_b", "a_b")]
    ids = task_ids_for(nodes)
    assert len(set(ids.values())) == 2
    assert ids["model.p.a.b"].startswith("a_b__") and ids["model.p.a_b"].startswith("a_b__")
    assert task_ids_for(reversed(nodes)) == ids


def test_models_named_like_the_factorys_own_tasks_get_other_ids():
    nodes = [_node("model.q.dbt_build", "dbt_build"), _node("model.q.dbt_done", "dbt_done")]
    ids = task_ids_for(nodes)
    assert ids["model.q.dbt_build"].startswith("dbt_build__") and ids["model.q.dbt_done"].startswith("dbt_done__")
    assert not set(ids.values()) & RESERVED_TASK_IDS
    assert {PRODUCER_TASK_ID, SUMMARY_TASK_ID} == RESERVED_TASK_IDS


def test_the_factory_adds_only_reserved_task_ids():
    nodes = [
        _node("model.q.dbt_build", "dbt_build"),
        _node("model.q.dbt_done", "dbt_done", depends_on=("model.q.dbt_build",)),
        _node("model.q.orders", "orders", depends_on=("model.q.dbt_done",)),
    ]
    graph = DbtGraph("q", "", {n.unique_id: n for n in nodes}, {})
    with DAG(dag_id="reserved", schedule=None) as dag:
        tasks = add_dbt_tasks(graph, project_dir="/nowhere", graph_path="/nowhere/graph.json")
    node_task_ids = {t.task_id for t in tasks.values()}
    assert len(node_task_ids) == len(nodes)
    assert {t.task_id for t in dag.tasks} - node_task_ids == RESERVED_TASK_IDS
    assert dag.get_task(SUMMARY_TASK_ID).upstream_task_ids == {tasks["model.q.orders"].task_id}


def test_sources_are_prefixed():
    ids = task_ids_for([_node("source.p.raw.orders", "orders", "source", "raw.orders")])
    assert ids == {"source.p.raw.orders": "source__raw__orders"}
