from dataops.airflow.naming import PRODUCER_TASK_ID, task_ids_for
from dataops.dbt.graph import DbtNode


def _node(uid, name, kind="model", source_name=""):
    return DbtNode(uid, name, kind, "p", ("p", name), f"models/{name}.sql", source_name=source_name)


def test_dots_and_odd_characters_become_underscores():
    ids = task_ids_for([_node("model.p.top_99.9_pct", "top_99.9_pct"), _node("model.p.caf\u00e9 x", "caf\u00e9 x")])
    assert ids == {"model.p.top_99.9_pct": "top_99_9_pct", "model.p.caf\u00e9 x": "caf_x"}


def test_collisions_get_stable_suffixes():
    nodes = [_node("model.p.a.b", "a.b"), _node("model.p.a_b", "a_b"), _node("model.q.dbt_build", "dbt_build")]
    ids = task_ids_for(nodes)
    assert len(set(ids.values())) == 3
    assert ids["model.p.a.b"].startswith("a_b__") and ids["model.p.a_b"].startswith("a_b__")
    assert ids["model.q.dbt_build"] != PRODUCER_TASK_ID
    assert task_ids_for(reversed(nodes)) == ids


def test_sources_are_prefixed():
    ids = task_ids_for([_node("source.p.raw.orders", "orders", "source", "raw.orders")])
    assert ids == {"source.p.raw.orders": "source__raw__orders"}
