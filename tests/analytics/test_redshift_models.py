"""The TICKIT models compiled for the ``redshift`` target, with no cluster.

``dbt compile --no-populate-cache --no-introspect`` renders every model's SQL
for Redshift without opening a connection (the host here is unreachable). Each
model's compiled SQL is then parsed with sqlfluff's Redshift dialect and checked
against the CREATE MATERIALIZED VIEW limitations that matter here: no ORDER BY,
LIMIT or OFFSET at the top level of the query (they stay allowed in a CTE, a
subquery or a window). A stored relation keeps no order anyway: whoever shows
rows orders them (dataops.local.demo.top_rows).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataops.config import load_settings
from dataops.dbt import DbtInvocation, DbtProject, DbtRunner

MODELS = {
    "all_gross_sales_model",
    "percentile_sales_model",
    "top_sales_99.9_percentile_model",
    "top_buyers_by_quantity_model",
    "top_buyer_data_model",
}
# What Redshift's CREATE MATERIALIZED VIEW refuses in the query that defines the view.
FORBIDDEN_IN_MATERIALIZED_VIEW = {"orderby_clause": "ORDER BY", "limit_clause": "LIMIT", "offset_clause": "OFFSET"}
# The parts of a query that are its top level: descending into anything else
# (a CTE, a subquery in FROM, a window's OVER) leaves the top level.
_TOP_LEVEL = {"statement", "select_statement", "set_expression", "with_compound_statement", "bracketed"}


def top_level_clauses(sql: str) -> set[str]:
    """ORDER BY / LIMIT / OFFSET found at the top level of ``sql`` (Redshift dialect)."""
    from sqlfluff.core import Linter

    tree = Linter(dialect="redshift").parse_string(sql).tree
    unparsable = [seg.raw for seg in tree.recursive_crawl("unparsable")]
    assert not unparsable, f"sqlfluff cannot parse: {unparsable[0][:80]!r}"
    found: set[str] = set()

    def walk(segment) -> None:
        for child in segment.segments:
            if child.type in FORBIDDEN_IN_MATERIALIZED_VIEW:
                found.add(FORBIDDEN_IN_MATERIALIZED_VIEW[child.type])
                if child.type == "limit_clause" and "offset" in child.raw.lower():
                    found.add("OFFSET")
            elif child.type in _TOP_LEVEL and child.type != "common_table_expression":
                walk(child)

    for statement in tree.recursive_crawl("statement"):
        walk(statement)
        break  # the first statement is the model's query
    return found


@pytest.mark.parametrize(
    ("sql", "clauses"),
    [
        ("select a from t order by a", {"ORDER BY"}),
        ("select a from t order by a limit 10", {"ORDER BY", "LIMIT"}),
        ("select a from t limit 10 offset 5", {"LIMIT", "OFFSET"}),
        ("with c as (select a from t) select a from c order by a", {"ORDER BY"}),
        ("select a from t union all select a from u order by 1", {"ORDER BY"}),
        # Allowed: inside a CTE, a subquery, a window.
        ("with c as (select a from t order by a limit 3) select a from c", set()),
        ("select a from (select a from t order by a limit 3) as s", set()),
        ("select a, row_number() over (order by a) as n from t", set()),
    ],
)
def test_the_check_finds_only_top_level_clauses(sql, clauses):
    assert top_level_clauses(sql) == clauses


@pytest.fixture(scope="module")
def redshift_manifest(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("redshift-compile")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp)  # no .env of the developer's
        # An endpoint nothing listens on: compiling must not need one.
        mp.setenv("DATAOPS_REDSHIFT_HOST", "127.0.0.1")
        mp.setenv("DATAOPS_REDSHIFT_PORT", "9")
        mp.setenv("DATAOPS_MATERIALIZATION", "materialized_view")
        settings = load_settings(target="redshift", state_dir=tmp)
        run = DbtRunner(DbtProject.from_settings(settings)).invoke(
            DbtInvocation(
                command="compile",
                target_path=tmp / "target",
                extra_args=("--no-populate-cache", "--no-introspect"),
            )
        )
    run.raise_for_status()
    return json.loads(Path(tmp / "target" / "manifest.json").read_text())


def test_every_model_is_a_valid_redshift_materialized_view(redshift_manifest):
    models = {n["name"]: n for n in redshift_manifest["nodes"].values() if n["resource_type"] == "model"}
    assert set(models) == MODELS
    assert {n["config"]["materialized"] for n in models.values()} == {"materialized_view"}
    assert all('"dev"."tickit".' in n["compiled_code"] or '"dev"."analytics".' in n["compiled_code"]
               for n in models.values())
    bad = {name: sorted(found) for name, n in models.items() if (found := top_level_clauses(n["compiled_code"]))}
    assert not bad, f"Redshift refuses these in CREATE MATERIALIZED VIEW: {bad}"
