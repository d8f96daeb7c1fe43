"""manifest.json -> the slim graph DAG files read."""

from __future__ import annotations

import json

import pytest

from dataops.dbt.graph import DbtGraph
from dataops.dbt.manifest import graph_from_manifest
from dataops.errors import DbtError


def test_task_nodes_are_runnable_nodes_and_tested_sources(manifests):
    graph = graph_from_manifest(manifests.shop(), "fp")
    assert set(graph.nodes) == {
        "source.p.raw.orders",
        "seed.p.countries",
        "model.p.stg_orders",
        "model.p.mart.a.b",
        "model.p.mart_b",
    }


def test_ephemeral_models_are_looked_through(manifests):
    graph = graph_from_manifest(manifests.shop(), "fp")
    assert graph.nodes["model.p.mart.a.b"].depends_on == ("model.p.stg_orders", "seed.p.countries")
    # an untested source is no task, so no edge either
    assert graph.nodes["model.p.stg_orders"].depends_on == ("source.p.raw.orders",)


def test_tests_attach_to_their_node_or_deepest_parent(manifests):
    owners = graph_from_manifest(manifests.shop(), "fp").test_owner
    assert owners["test.p.unique_orders_id.1"] == "source.p.raw.orders"
    assert owners["test.p.not_null_stg.2"] == "model.p.stg_orders"
    assert owners["test.p.rel_mart_stg.3"] == "model.p.mart.a.b"
    assert owners["test.p.singular.4"] == "model.p.mart_b"
    assert owners["test.p.on_eph.5"] == "model.p.stg_orders" or owners["test.p.on_eph.5"] == "seed.p.countries"


def test_order_is_topological_and_stable(manifests):
    graph = graph_from_manifest(manifests.shop(), "fp")
    order = list(graph.nodes)
    for uid, n in graph.nodes.items():
        assert all(order.index(d) < order.index(uid) for d in n.depends_on)
    reversed_manifest = manifests.shop()
    reversed_manifest["nodes"] = dict(reversed(list(reversed_manifest["nodes"].items())))
    assert list(graph_from_manifest(reversed_manifest, "fp").nodes) == order


def test_selectors_pick_exactly_one_node(manifests):
    graph = graph_from_manifest(manifests.shop(), "fp")
    assert graph.nodes["model.p.mart.a.b"].selector == "fqn:p.models.mart.a.b"
    assert graph.nodes["source.p.raw.orders"].selector == "source:p.raw.orders"


def test_round_trip_is_byte_identical(tmp_path, manifests):
    graph = graph_from_manifest(manifests.shop(), "fp")
    graph.write(tmp_path / "a.json")
    DbtGraph.read(tmp_path / "a.json").write(tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert DbtGraph.read(tmp_path / "a.json") == graph


def test_missing_artifact_names_the_command(tmp_path):
    with pytest.raises(DbtError, match="dataops dbt manifest"):
        DbtGraph.read(tmp_path / "target" / "dataops_graph.json")


def test_old_format_is_refused(tmp_path):
    (tmp_path / "g.json").write_text(json.dumps({"format": 0, "nodes": []}))
    with pytest.raises(DbtError, match="dataops dbt manifest"):
        DbtGraph.read(tmp_path / "g.json")


def test_cycles_are_reported(manifests):
    with pytest.raises(DbtError, match="cycle"):
        graph_from_manifest(
            manifests.manifest(manifests.node("model.p.a", ["model.p.b"]), manifests.node("model.p.b", ["model.p.a"])),
            "fp",
        )
