"""A dbt project of three models and a snapshot, small enough to build in a few seconds, with what
the write-audit-publish guarantee is about: a pair of models whose values must agree (``pair_a``'s
sum is ``pair_b``'s total), an error-severity test and a warn-severity one on ``pair_a``, an
incremental model (``history``) that gains one row per batch of its source, and a snapshot of
``pair_a`` (``pair_a_snapshot``) that keeps every version of each row."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from dataops.config import Settings
from dataops.dbt.graph import DbtGraph
from dataops.dbt.manifest import graph_from_manifest
from dataops.dbt.project import DbtProject
from dataops.dbt.runner import DbtInvocation, DbtRun, DbtRunner
from dataops.wap.place import Publishable, Relation, RunPlace, publishables
from dataops.wap.publisher import Publisher

PIPELINE = "shop"
MODELS = ("pair_a", "pair_b", "history")
GOOD_PAIR_A = "select id, value, batch from {{ source('raw', 'numbers') }}"
# Keeps half the rows and a null: the not_null test fails.
BAD_PAIR_A = "select id, case when id % 2 = 0 then value end as value, batch from {{ source('raw', 'numbers') }}"

FILES = {
    "dbt_project.yml": "name: shop\nversion: '1.0'\nconfig-version: 2\nprofile: shop\nmodel-paths: [models]\n"
                       "test-paths: [tests]\nmodels:\n  shop:\n    +materialized: table\n",
    "models/sources.yml": "version: 2\nsources:\n  - name: raw\n    schema: raw\n    tables:\n      - name: numbers\n"
                          "models:\n  - name: pair_a\n    columns:\n      - name: value\n        data_tests: [not_null]\n",
    "models/pair_a.sql": GOOD_PAIR_A,
    "models/pair_b.sql": "select sum(value) as total, max(batch) as batch from {{ ref('pair_a') }}",
    "models/history.sql": "{{ config(materialized='incremental') }}\n"
                          "select max(batch) as batch, count(*) as n from {{ ref('pair_a') }}\n"
                          "{% if is_incremental() %}having max(batch) > (select max(batch) from {{ this }}){% endif %}",
    "tests/pair_a_small_values.sql": "{{ config(severity='warn') }}\n"
                                     "select * from {{ ref('pair_a') }} where value > 1000",
    "snapshots/snapshots.yml": "snapshots:\n  - name: pair_a_snapshot\n    relation: ref('pair_a')\n    config:\n"
                               "      unique_key: id\n      strategy: check\n      check_cols: [value]\n",
}


@dataclass
class Warehouse:
    settings: Settings
    runs: int = field(default=0)
    graph: DbtGraph | None = None

    def publisher(self, keep: int = 3) -> Publisher:
        return Publisher(self.settings, keep=keep)

    def sql(self, statement: str) -> list[tuple]:
        session = self.settings.warehouse().publish_sql().connect(self.settings)
        try:
            if statement.lstrip().lower().startswith(("select", "with")):
                return session.rows(statement)
            session.execute(statement)
            return []
        finally:
            session.close()

    def load_batch(self, batch: int, rows: int = 20) -> None:
        """The source: ``rows`` numbers tagged with ``batch`` (replacing the previous batch)."""
        values = ", ".join(f"({i}, {i * batch}, {batch})" for i in range(1, rows + 1))
        self.sql("create schema if not exists raw")
        self.sql("drop table if exists raw.numbers")
        self.sql(f"create table raw.numbers as select * from (values {values}) as t(id, value, batch)")

    def place(self, run_id: str, run_after: str, keep: int = 3) -> RunPlace:
        """The run's place, claimed as a run's build claims it."""
        return self.publisher(keep).claim(RunPlace(PIPELINE, run_id, run_after, "test", self.settings.models_schema))

    def production(self, model: str) -> list[tuple]:
        order = "batch" if model == "history" else "1"
        return self.sql(f"select * from {self.settings.models_schema}.{model} order by {order}")


def write_project(root: Path, **changes: str) -> Path:
    for name, text in {**FILES, **changes}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return root


def build(wh: Warehouse, project_dir: Path, place: RunPlace, select: tuple[str, ...] = ()) -> tuple[DbtRun, list]:
    """``dbt build`` of the project into ``place`` (after carrying incremental history into it), as a
    run's producer does; returns the run and the place's publishables."""
    project = DbtProject.from_settings(wh.settings.model_copy(update={"models_schema": place.schema}), project_dir)
    if wh.graph is not None:
        wh.publisher().prepare(place, publishables(wh.graph, wh.graph.nodes, place))
    wh.runs += 1
    run = DbtRunner(project).invoke(DbtInvocation(select=select, target_path=project_dir / f"target-{wh.runs}"))
    if wh.graph is None:
        # The graph as dbt compiled it for this place; publishables() maps it onto any other place.
        manifest = json.loads((run.target_path / "manifest.json").read_text())
        wh.graph = graph_from_manifest(manifest, "fp", place.schema)
    return run, publishables(wh.graph, wh.graph.nodes, place)


def make_place(wh, n: int, keep: int = 3) -> tuple[RunPlace, list[Publishable]]:
    """Run ``n``'s place: pair_a holds ten values of version n, pair_b their sum, as a run builds them."""
    place = wh.place(f"run{n}", f"2026-01-{n:02d}T00:00:{n % 60:02d}", keep)
    models = wh.settings.models_schema
    wh.sql(f"create schema if not exists {place.schema}")
    wh.sql(f"create table {place.schema}.pair_a as select i as id, i * {n} as value from "
           f"(values (1), (2), (3), (4), (5), (6), (7), (8), (9), (10)) as t(i)")
    wh.sql(f"create table {place.schema}.pair_b as select sum(value) as total, {n} as version from {place.schema}.pair_a")
    items = [Publishable(f"model.shop.{m}", "table", Relation(place.schema, m), Relation(models, m))
             for m in ("pair_a", "pair_b")]
    return place, items
