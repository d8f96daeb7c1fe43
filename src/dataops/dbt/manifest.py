"""Compiling a dbt project's graph: ``dbt parse`` once, then a slim artifact.

Runs at build or deploy time (``dataops dbt manifest``), never when a DAG
file is parsed. ``graph_from_manifest`` turns dbt's ``manifest.json`` into
a :class:`~dataops.dbt.graph.DbtGraph`: one node per model, seed, snapshot
and tested source; ephemeral models looked through; every test attached to
the task whose failure it should show.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dataops.dbt.fingerprint import project_fingerprint
from dataops.dbt.graph import GRAPH_FILE, DbtGraph, DbtNode, topological_order
from dataops.errors import DbtError

_RUNNABLE = frozenset({"model", "seed", "snapshot"})


@dataclass(frozen=True)
class CompiledProject:
    manifest_path: Path
    graph_path: Path
    graph: DbtGraph
    # dbt's deprecation warnings about the project, in its words.
    deprecations: tuple[str, ...] = ()


def default_graph_path(project_dir: Path) -> Path:
    return Path(project_dir) / "target" / GRAPH_FILE


def compile_project(project, target_path: Path | None = None, docs: bool = False) -> CompiledProject:
    """Run ``dbt parse`` on ``project`` (a DbtProject) and write the graph artifact; with ``docs``,
    dbt's documentation site too (dataops.dbt.docs), in the same dbt process."""
    from dataops.dbt.docs import docs_invocation, has_docs
    from dataops.dbt.runner import DbtInvocation, DbtRunner, describe_failure

    target = Path(target_path or Path(project.project_dir) / "target")
    fingerprint = project_fingerprint(project.project_dir)
    then = (docs_invocation(),) if docs else ()
    run = DbtRunner(project).invoke(DbtInvocation(command="parse", target_path=target, then=then))
    if not run.succeeded or (docs and not has_docs(target)):
        raise DbtError(f"{project.project_dir} ({project.profile.describe()}): {describe_failure(run)}")
    manifest_path = target / "manifest.json"
    target_schema = project.env.get("DATAOPS_MODELS_SCHEMA", "")
    graph = graph_from_manifest(json.loads(manifest_path.read_text()), fingerprint, target_schema)
    graph_path = target / GRAPH_FILE
    graph.write(graph_path)
    return CompiledProject(manifest_path, graph_path, graph, run.deprecations)


def graph_from_manifest(manifest: dict, fingerprint: str, target_schema: str = "") -> DbtGraph:
    raw_nodes: dict[str, dict] = {**manifest.get("nodes", {}), **manifest.get("sources", {})}
    project_name = manifest.get("metadata", {}).get("project_name") or _guess_project(raw_nodes)

    runnable = {
        uid: n
        for uid, n in raw_nodes.items()
        if n["resource_type"] in _RUNNABLE and _materialized(n) != "ephemeral"
    }
    sources = {uid: n for uid, n in raw_nodes.items() if n["resource_type"] == "source"}
    candidates = {**runnable, **sources}

    resolve = _Resolver(raw_nodes, candidates.keys())
    deps = {uid: resolve.parents(uid) for uid in candidates}

    # Order all candidates first so that tests can be attached to the deepest parent.
    order = topological_order({uid: _stub(uid, deps[uid]) for uid in candidates})
    rank = {uid: i for i, uid in enumerate(order)}

    tests: dict[str, list[str]] = {uid: [] for uid in candidates}
    test_nodes = [n for n in raw_nodes.values() if n["resource_type"] == "test"]
    test_nodes += list(manifest.get("unit_tests", {}).values())
    for test in test_nodes:
        parents = resolve.parents_of(test)
        if not parents:
            continue  # a test on nothing the DAG builds (e.g. a disabled model)
        attached = test.get("attached_node")
        # dbt names the node a generic test is defined on; the deepest parent is
        # the fallback for singular tests and unit tests.
        owner = attached if attached in parents else max(parents, key=lambda p: (rank[p], p))
        tests[owner].append(test["unique_id"])

    keep = set(runnable) | {uid for uid in sources if tests[uid]}
    nodes: dict[str, DbtNode] = {}
    for uid in order:
        if uid not in keep:
            continue
        raw = candidates[uid]
        nodes[uid] = DbtNode(
            unique_id=uid,
            name=raw["name"],
            resource_type=raw["resource_type"],
            package=raw["package_name"],
            fqn=tuple(raw["fqn"]),
            path=raw["original_file_path"],
            tags=tuple(sorted(raw.get("tags") or ())),
            materialized=_materialized(raw),
            depends_on=tuple(sorted(d for d in deps[uid] if d in keep)),
            tests=tuple(sorted(tests[uid])),
            source_name=f"{raw['source_name']}.{raw['name']}" if raw["resource_type"] == "source" else "",
            schema=str(raw.get("schema") or "").lower() if uid in runnable else "",
            alias=str(raw.get("alias") or raw["name"]) if uid in runnable else "",
        )
    owners = {t: uid for uid, node in nodes.items() for t in node.tests}
    return DbtGraph(project_name, fingerprint, nodes, owners, target_schema.lower())


class _Resolver:
    """Parents of a node among the task candidates, looking through ephemerals."""

    def __init__(self, raw_nodes: dict[str, dict], candidates):
        self.raw = raw_nodes
        self.candidates = set(candidates)
        self._cache: dict[str, frozenset[str]] = {}

    def parents(self, uid: str) -> frozenset[str]:
        return self._through(self.raw[uid])

    def parents_of(self, node: dict) -> frozenset[str]:
        return self._through(node)

    def _through(self, node: dict) -> frozenset[str]:
        found: set[str] = set()
        for dep in (node.get("depends_on") or {}).get("nodes", ()):
            if dep in self.candidates:
                found.add(dep)
            elif dep in self.raw and self.raw[dep]["resource_type"] == "model":
                found |= self._ephemeral(dep)
        return frozenset(found)

    def _ephemeral(self, uid: str) -> frozenset[str]:
        if uid not in self._cache:
            self._cache[uid] = frozenset()  # guards against cycles
            self._cache[uid] = self._through(self.raw[uid])
        return self._cache[uid]


def _stub(uid: str, deps) -> DbtNode:
    return DbtNode(uid, uid, "", "", (), "", depends_on=tuple(deps))


def _materialized(node: dict) -> str:
    return str((node.get("config") or {}).get("materialized") or "")


def _guess_project(raw_nodes: dict[str, dict]) -> str:
    for node in raw_nodes.values():
        return node.get("package_name", "")
    return ""


def ensure_compiled(project, docs: bool = False) -> bool:
    """Compile ``project`` unless its graph artifact matches the files; True if it compiled.
    With ``docs``, dbt's documentation site is built too when it compiles or the site is missing."""
    graph_path = default_graph_path(project.project_dir)
    try:
        fresh = DbtGraph.read(graph_path).fingerprint == project_fingerprint(project.project_dir)
    except (DbtError, OSError, ValueError, KeyError):  # missing, unreadable or of another format
        fresh = False
    if not fresh:
        compile_project(project, docs=docs)
    elif docs:
        from dataops.dbt.docs import generate_docs, has_docs

        if not has_docs(graph_path.parent):
            generate_docs(project, graph_path.parent)
    return not fresh
