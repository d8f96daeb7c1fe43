"""The subset of dbt's selection syntax DAG files may use."""

from __future__ import annotations

import pytest

from dataops.dbt.manifest import graph_from_manifest
from dataops.dbt.selection import select_nodes
from dataops.errors import DbtError


@pytest.fixture
def graph(manifests):
    return graph_from_manifest(manifests.shop(), "fp")


@pytest.mark.parametrize(
    ("select", "exclude", "expected"),
    [
        ([], [], {"source.p.raw.orders", "seed.p.countries", "model.p.stg_orders", "model.p.mart.a.b", "model.p.mart_b"}),
        (["tag:daily"], [], {"model.p.stg_orders"}),
        (["tag:daily+"], [], {"model.p.stg_orders", "model.p.mart.a.b", "model.p.mart_b"}),
        (["+mart.a.b"], [], {"model.p.mart.a.b", "model.p.stg_orders", "seed.p.countries", "source.p.raw.orders"}),
        (["1+mart.a.b"], [], {"model.p.mart.a.b", "model.p.stg_orders", "seed.p.countries"}),
        (["path:models/marts"], [], {"model.p.mart.a.b", "model.p.mart_b"}),
        (["resource_type:seed source:raw.orders"], [], {"seed.p.countries", "source.p.raw.orders"}),
        (["path:models/marts,tag:weekly"], [], {"model.p.mart_b"}),
        (["config.materialized:view"], [], {"model.p.stg_orders"}),
        (["p.models.mart_b"], [], {"model.p.mart_b"}),
        (["mart*"], ["mart_b"], {"model.p.mart.a.b"}),
    ],
)
def test_selection(graph, select, exclude, expected):
    assert select_nodes(graph, select, exclude) == expected


def test_unsupported_method_is_a_clear_error(graph):
    with pytest.raises(DbtError, match="state"):
        select_nodes(graph, ["state:modified"])
