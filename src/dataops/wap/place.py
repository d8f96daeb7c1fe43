"""Where a run writes, and where each of its models is published.

A run of a pipeline (a DAG) builds into a schema of its own: one of a few
slots per pipeline, ``<models schema>__wap_<pipeline tag>_s<NN>``, that no
kept version reads (``Publisher.claim``; reusing names keeps dbt's partial
parsing valid from one run to the next, as the schema is part of dbt's profile).
The dbt profile takes its schema from ``DATAOPS_MODELS_SCHEMA``, which the run
sets to that name, so any project whose profile reads that variable (the
platform's does) writes there without an edit, ``ref()`` resolves there and
sources stay where they are. A model with a custom schema (dbt's default
``generate_schema_name``) builds into ``<run schema>_<custom>`` and is
published to ``<models schema>_<custom>``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from dataops.dbt.graph import DbtGraph, DbtNode
from dataops.errors import DataOpsError

# Node kinds that leave a relation to publish (ephemeral models are not in the graph).
PUBLISHED_TYPES = frozenset({"model", "seed", "snapshot"})
# Built from what they held before: carried into the run's place first.
CARRIED = frozenset({"incremental", "snapshot"})
_MARK = "__wap_"


class PublishError(DataOpsError):
    """A run's models cannot be published (or rolled back) safely; nothing was changed."""


@dataclass(frozen=True, order=True)
class Relation:
    schema: str
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Publishable:
    """One model of a run: where the run builds it and where readers find it."""

    unique_id: str
    kind: str  # its materialization (table, view, incremental...) or "seed" / "snapshot"
    built: Relation
    production: Relation

    @property
    def carried(self) -> bool:
        return self.kind in CARRIED


@dataclass(frozen=True)
class RunPlace:
    """One run of a pipeline: its schema, and what the versions list shows of it."""

    pipeline: str
    run_id: str
    # Orders runs of a pipeline (the DAG run's run_after): an older run never publishes over a newer one.
    run_after: str
    # The code it ran: the bundle version, else "working tree".
    code_version: str
    models_schema: str
    # The slot it builds in ("" until Publisher.claim or Publisher.find gives it one).
    schema: str = ""

    @property
    def pipeline_prefix(self) -> str:
        """Every run place of this pipeline starts with it."""
        return pipeline_prefix(self.models_schema, self.pipeline)


def _tag(value: str, size: int) -> str:
    return hashlib.sha1(value.encode()).hexdigest()[:size]


def pipeline_prefix(models_schema: str, pipeline: str) -> str:
    return f"{models_schema}{_MARK}{_tag(pipeline, 6)}_"


def slot_schema(models_schema: str, pipeline: str, slot: int) -> str:
    """A run place's schema: short (PostgreSQL allows 63 bytes), the same name for every run in that slot."""
    return f"{pipeline_prefix(models_schema, pipeline)}s{slot:02d}"


def place_root(schema: str, prefix: str) -> str:
    """A run place's schema, from it or one of its custom schemas ("<place>_<custom>")."""
    return schema[: len(prefix) + 3] if schema.startswith(prefix) else schema


def schema_suffix(node: DbtNode, target_schema: str) -> str:
    """"" or "_<custom>": what dbt adds to the profile's schema for ``node``; PublishError when it does
    not build under the profile's schema (the run could not keep it out of production)."""
    if target_schema and node.schema == target_schema:
        return ""
    if target_schema and node.schema.startswith(target_schema + "_"):
        return node.schema[len(target_schema):]
    raise PublishError(
        f"{node.resource_type} {node.name} ({node.path}) builds into schema {node.schema or '?'}, not under the "
        f"profile's schema {target_schema or '(unknown: compile with `dataops dbt manifest`)'}: a run could not "
        "keep it out of production until its tests pass. The dbt profile must take its schema from "
        "DATAOPS_MODELS_SCHEMA (env_var('DATAOPS_MODELS_SCHEMA'); the platform's profile does), and custom schemas "
        "must come from dbt's default generate_schema_name; or build this DAG with DbtDag(publish=\"direct\")."
    )


def check_buildable(graph: DbtGraph, unique_ids: Iterable[str]) -> None:
    """PublishError naming the first model of ``unique_ids`` that would not build in a run's place."""
    wanted = set(unique_ids)
    for uid, node in graph.nodes.items():
        if uid in wanted and node.resource_type in PUBLISHED_TYPES:
            schema_suffix(node, graph.target_schema)


def publishables(graph: DbtGraph, unique_ids: Iterable[str], place: RunPlace) -> list[Publishable]:
    """The relations of ``unique_ids`` that a run builds in ``place`` and publishes, in graph order."""
    if not place.schema:
        raise ValueError(f"run {place.run_id} has no place yet: claim one first (Publisher.claim)")
    wanted = set(unique_ids)
    found = []
    for uid, node in graph.nodes.items():
        if uid not in wanted or node.resource_type not in PUBLISHED_TYPES:
            continue
        suffix = schema_suffix(node, graph.target_schema)
        kind = node.resource_type if node.resource_type != "model" else (node.materialized or "table")
        found.append(Publishable(
            uid, kind, Relation(place.schema + suffix, node.alias), Relation(place.models_schema + suffix, node.alias)
        ))
    return found


def reads_outside(graph: DbtGraph, unique_ids: Iterable[str]) -> bool:
    """Whether models of ``unique_ids`` read models outside them (a DAG that selects part of a
    project): dbt then defers those to production (``--defer``), as they are not in the run's place."""
    chosen = set(unique_ids)
    return any(d not in chosen for uid in chosen for d in graph.nodes[uid].depends_on
               if graph.nodes[d].resource_type in PUBLISHED_TYPES)
