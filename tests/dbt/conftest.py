"""Small hand-written manifests (the shapes the graph compiler must handle), as a fixture."""

from __future__ import annotations


def node(uid: str, deps=(), *, materialized="table", tags=(), path=None, attached=None):
    kind, package, *rest = uid.split(".")
    name = rest[-2] if kind == "test" else ".".join(rest)
    data = {
        "unique_id": uid,
        "name": name,
        "resource_type": kind,
        "package_name": package,
        "fqn": [package, "models", name],
        "original_file_path": path or f"models/{name}.sql",
        "tags": list(tags),
        "config": {"materialized": materialized},
        "depends_on": {"nodes": list(deps), "macros": []},
    }
    if attached:
        data["attached_node"] = attached
    return data


def source(uid: str):
    _, package, source_name, table = uid.split(".")
    return {
        "unique_id": uid,
        "name": table,
        "source_name": source_name,
        "resource_type": "source",
        "package_name": package,
        "fqn": [package, source_name, table],
        "original_file_path": "models/_sources.yml",
        "tags": [],
        "config": {},
    }


def manifest(*items) -> dict:
    nodes = {i["unique_id"]: i for i in items if i["resource_type"] != "source"}
    sources = {i["unique_id"]: i for i in items if i["resource_type"] == "source"}
    return {"metadata": {"project_name": "p"}, "nodes": nodes, "sources": sources}


def shop() -> dict:
    """seed -> stg (view) -> eph (ephemeral) -> mart.a.b (dotted name); a tested source."""
    return manifest(
        source("source.p.raw.orders"),
        source("source.p.raw.untested"),
        node("seed.p.countries", materialized="seed", path="seeds/countries.csv"),
        node("model.p.stg_orders", ["source.p.raw.orders", "source.p.raw.untested"], materialized="view",
             tags=["daily"], path="models/staging/stg_orders.sql"),
        node("model.p.eph", ["model.p.stg_orders", "seed.p.countries"], materialized="ephemeral"),
        node("model.p.mart.a.b", ["model.p.eph"], path="models/marts/mart.a.b.sql"),
        node("model.p.mart_b", ["model.p.stg_orders"], tags=["weekly"], path="models/marts/mart_b.sql"),
        node("test.p.unique_orders_id.1", ["source.p.raw.orders"], attached="source.p.raw.orders"),
        node("test.p.not_null_stg.2", ["model.p.stg_orders"], attached="model.p.stg_orders"),
        node("test.p.rel_mart_stg.3", ["model.p.mart.a.b", "model.p.stg_orders"], attached="model.p.mart.a.b"),
        node("test.p.singular.4", ["model.p.mart_b", "model.p.stg_orders"]),
        node("test.p.on_eph.5", ["model.p.eph"]),
    )


import types  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def manifests():
    """Builders of small manifests: node(), source(), manifest(), shop()."""
    return types.SimpleNamespace(node=node, source=source, manifest=manifest, shop=shop)
