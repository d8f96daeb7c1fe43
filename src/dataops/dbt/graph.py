"""The slim graph of a dbt project that DAG files read.

``manifest.json`` is large (megabytes at a thousand models) and its schema
belongs to dbt. DAG files instead read this small artifact, written once at
build time by ``dataops dbt manifest``: the nodes that become tasks (models,
seeds, snapshots, and sources that have tests), their dependencies, and the
tests attached to each. It is plain JSON read with the standard library, so
parsing a DAG file never imports dbt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dataops.errors import DbtError

FORMAT_VERSION = 1
GRAPH_FILE = "dataops_graph.json"


@dataclass(frozen=True)
class DbtNode:
    unique_id: str
    name: str
    resource_type: str
    package: str
    fqn: tuple[str, ...]
    path: str
    tags: tuple[str, ...] = ()
    materialized: str = ""
    # Task nodes this node reads from (ephemeral models are looked through).
    depends_on: tuple[str, ...] = ()
    # Tests (and unit tests) whose outcome belongs to this node's task.
    tests: tuple[str, ...] = ()
    # For sources: "<source_name>.<table>".
    source_name: str = ""
    # Where dbt builds it, as compiled (models, seeds, snapshots): its schema and relation name.
    schema: str = ""
    alias: str = ""

    @property
    def selector(self) -> str:
        """A dbt selector that picks exactly this node (and, indirectly, its tests)."""
        if self.resource_type == "source":
            return f"source:{self.package}.{self.source_name}"
        return "fqn:" + ".".join(self.fqn)

    def to_json(self) -> dict:
        data = {
            "unique_id": self.unique_id,
            "name": self.name,
            "resource_type": self.resource_type,
            "package": self.package,
            "fqn": list(self.fqn),
            "path": self.path,
            "tags": list(self.tags),
            "materialized": self.materialized,
            "depends_on": list(self.depends_on),
            "tests": list(self.tests),
        }
        if self.source_name:
            data["source_name"] = self.source_name
        if self.alias:
            data["schema"], data["alias"] = self.schema, self.alias
        return data

    @classmethod
    def from_json(cls, d: dict) -> DbtNode:
        return cls(
            unique_id=d["unique_id"],
            name=d["name"],
            resource_type=d["resource_type"],
            package=d["package"],
            fqn=tuple(d["fqn"]),
            path=d["path"],
            tags=tuple(d.get("tags", ())),
            materialized=d.get("materialized", ""),
            depends_on=tuple(d.get("depends_on", ())),
            tests=tuple(d.get("tests", ())),
            source_name=d.get("source_name", ""),
            schema=d.get("schema", ""),
            alias=d.get("alias", ""),
        )


@dataclass(frozen=True)
class DbtGraph:
    """Task nodes in a stable (topological, then unique_id) order."""

    project_name: str
    # Fingerprint of the project's files when the graph was compiled; see
    # dataops.dbt.fingerprint.
    fingerprint: str
    nodes: dict[str, DbtNode]
    # test unique_id -> the task node it is attached to
    test_owner: dict[str, str]
    # The profile's schema when it was compiled (DATAOPS_MODELS_SCHEMA), "" if unknown:
    # a node's schema is this one or "<this>_<custom>" when dbt's default naming applies.
    target_schema: str = ""

    def __post_init__(self):
        missing = {d for n in self.nodes.values() for d in n.depends_on} - self.nodes.keys()
        if missing:
            raise DbtError(f"dbt graph is inconsistent: dependencies {sorted(missing)[:5]} are not nodes")

    def children(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {uid: [] for uid in self.nodes}
        for node in self.nodes.values():
            for parent in node.depends_on:
                result[parent].append(node.unique_id)
        return result

    def to_json(self) -> dict:
        return {
            "format": FORMAT_VERSION,
            "project_name": self.project_name,
            "fingerprint": self.fingerprint,
            "nodes": [n.to_json() for n in self.nodes.values()],
            "target_schema": self.target_schema,
        }

    @classmethod
    def from_json(cls, data: dict) -> DbtGraph:
        if data.get("format") != FORMAT_VERSION:
            raise DbtError(
                f"dbt graph artifact has format {data.get('format')!r}, expected {FORMAT_VERSION}; "
                "run `dataops dbt manifest` to rebuild it."
            )
        nodes = {}
        owners = {}
        for raw in data["nodes"]:
            node = DbtNode.from_json(raw)
            nodes[node.unique_id] = node
            for test in node.tests:
                owners[test] = node.unique_id
        return cls(data["project_name"], data["fingerprint"], nodes, owners, data.get("target_schema", ""))

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        # sort_keys and a fixed layout: the same project gives byte-identical files.
        tmp.write_text(json.dumps(self.to_json(), indent=1, sort_keys=True) + "\n")
        tmp.replace(path)

    @classmethod
    def read(cls, path: Path) -> DbtGraph:
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise DbtError(
                f"dbt graph artifact {path} not found: run `dataops dbt manifest"
                f" --project-dir {Path(path).parent.parent}` to compile the dbt project."
            ) from None
        return cls.from_json(data)


def topological_order(nodes: dict[str, DbtNode]) -> list[str]:
    """Kahn's algorithm with unique_id as tie-breaker: a stable order."""
    import heapq

    indegree = {uid: 0 for uid in nodes}
    children: dict[str, list[str]] = {uid: [] for uid in nodes}
    for node in nodes.values():
        for parent in node.depends_on:
            if parent in nodes:
                indegree[node.unique_id] += 1
                children[parent].append(node.unique_id)
    ready = [uid for uid, deg in indegree.items() if deg == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        uid = heapq.heappop(ready)
        order.append(uid)
        for child in children[uid]:
            indegree[child] -= 1
            if indegree[child] == 0:
                heapq.heappush(ready, child)
    if len(order) != len(nodes):
        cycle = sorted(uid for uid, deg in indegree.items() if deg)[:5]
        raise DbtError(f"dbt graph has a cycle through {cycle}")
    return order
