"""Where a run builds each model and where it is published (pure functions of the compiled graph)."""

from __future__ import annotations

import pytest

from dataops.dbt.graph import DbtGraph, DbtNode
from dataops.wap.place import PublishError, Relation, RunPlace, place_root, publishables, reads_outside, slot_schema


def _node(uid, schema, alias, deps=(), materialized="table", kind="model"):
    return DbtNode(uid, uid.split(".")[-1], kind, "p", (uid,), f"models/{alias}.sql", materialized=materialized,
                   depends_on=deps, schema=schema, alias=alias)


GRAPH = DbtGraph("p", "fp", {
    "model.p.a": _node("model.p.a", "analytics", "a"),
    "model.p.b": _node("model.p.b", "analytics_marts", "b_alias", ("model.p.a",), "incremental"),
    "snapshot.p.s": _node("snapshot.p.s", "analytics", "s", ("model.p.a",), "snapshot", "snapshot"),
}, {}, "analytics")
PLACE = RunPlace("shop", "manual__2026-01-01T00:00:00+00:00", "2026-01-01", "v1", "prod", slot_schema("prod", "shop", 1))


def test_each_model_builds_under_the_runs_schema_and_publishes_under_production():
    items = {i.unique_id: i for i in publishables(GRAPH, GRAPH.nodes, PLACE)}
    assert items["model.p.a"].built == Relation(PLACE.schema, "a")
    assert items["model.p.a"].production == Relation("prod", "a")
    assert items["model.p.b"].built == Relation(PLACE.schema + "_marts", "b_alias")
    assert items["model.p.b"].production == Relation("prod_marts", "b_alias")
    assert [uid for uid, i in items.items() if i.carried] == ["model.p.b", "snapshot.p.s"]


def test_a_place_is_short_and_its_pipelines_own():
    assert PLACE.schema.startswith(PLACE.pipeline_prefix) and len(PLACE.schema) <= 63 - len("_marts")
    assert slot_schema("prod", "other dag", 1)[:len(PLACE.pipeline_prefix)] != PLACE.pipeline_prefix
    assert place_root(PLACE.schema + "_marts", PLACE.pipeline_prefix) == PLACE.schema
    assert place_root(slot_schema("prod", "shop", 12), PLACE.pipeline_prefix) == slot_schema("prod", "shop", 12)
    with pytest.raises(ValueError, match="claim one first"):
        publishables(GRAPH, GRAPH.nodes, RunPlace("shop", "r", "t", "v", "prod"))


def test_a_model_outside_the_profiles_schema_is_refused_naming_it():
    fixed = DbtGraph("p", "fp", {"snapshot.p.s": _node("snapshot.p.s", "snapshots", "s", kind="snapshot")}, {},
                     "analytics")
    with pytest.raises(PublishError, match=r"snapshot s \(models/s.sql\) builds into schema snapshots, not under "
                                           r"the profile's schema analytics.*DATAOPS_MODELS_SCHEMA"):
        publishables(fixed, fixed.nodes, PLACE)


def test_a_dag_of_part_of_a_project_reads_the_rest_from_production():
    assert reads_outside(GRAPH, ["model.p.b"]) and not reads_outside(GRAPH, GRAPH.nodes)
