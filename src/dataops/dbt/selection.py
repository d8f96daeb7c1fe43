"""dbt's node selection syntax, the common subset, evaluated on a DbtGraph.

DAG files build partial DAGs (one per tag, folder or schedule) without
running dbt, so the selection is evaluated here. Supported, as in dbt:
space-separated unions, comma-separated intersections, the graph operators
``+x``, ``x+``, ``2+x``, ``x+1`` and ``@x``, and the methods ``tag:``,
``path:``, ``fqn:``, ``resource_type:``, ``package:``, ``source:``,
``config.materialized:`` and bare names or fqn paths. Anything else is a
clear error rather than a different answer from dbt's.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence

from dataops.dbt.graph import DbtGraph, DbtNode
from dataops.errors import DbtError

_GRAPH_OPS = re.compile(r"^(?P<at>@)?(?:(?P<up>\d*)\+)?(?P<body>.+?)(?:\+(?P<down>\d*))?$")


def select_nodes(graph: DbtGraph, select: Sequence[str] = (), exclude: Sequence[str] = ()) -> set[str]:
    chosen = set(graph.nodes) if not select else _union(graph, select)
    if exclude:
        chosen -= _union(graph, exclude)
    return chosen


def _union(graph: DbtGraph, specs: Iterable[str]) -> set[str]:
    result: set[str] = set()
    for spec in specs:
        for term in spec.split():
            result |= _intersection(graph, term)
    return result


def _intersection(graph: DbtGraph, term: str) -> set[str]:
    parts = [p for p in term.split(",") if p]
    result = _criterion(graph, parts[0])
    for part in parts[1:]:
        result &= _criterion(graph, part)
    return result


def _criterion(graph: DbtGraph, text: str) -> set[str]:
    match = _GRAPH_OPS.match(text)
    if not match:
        raise DbtError(f"cannot parse dbt selector {text!r}")
    base = {uid for uid, node in graph.nodes.items() if _matches(node, match["body"])}
    result = set(base)
    if match["at"]:
        down = _walk(graph, base, graph.children(), None)
        result |= down | _walk(graph, down, _parents(graph), None)
        return result
    if match["up"] is not None:
        result |= _walk(graph, base, _parents(graph), int(match["up"]) if match["up"] else None)
    if match["down"] is not None:
        result |= _walk(graph, base, graph.children(), int(match["down"]) if match["down"] else None)
    return result


def _parents(graph: DbtGraph) -> dict[str, list[str]]:
    return {uid: list(node.depends_on) for uid, node in graph.nodes.items()}


def _walk(graph: DbtGraph, start: set[str], edges: dict[str, list[str]], depth: int | None) -> set[str]:
    seen: set[str] = set()
    frontier = set(start)
    level = 0
    while frontier and (depth is None or level < depth):
        nxt = {n for uid in frontier for n in edges.get(uid, ()) if n not in seen}
        seen |= nxt
        frontier = nxt
        level += 1
    return seen


def _matches(node: DbtNode, body: str) -> bool:
    method, sep, value = body.partition(":")
    if not sep:
        method, value = "", body
    if method == "tag":
        return any(fnmatch.fnmatchcase(t, value) for t in node.tags)
    if method == "path":
        value = value.rstrip("/")
        return node.path == value or node.path.startswith(value + "/") or fnmatch.fnmatchcase(node.path, value)
    if method == "resource_type":
        return node.resource_type == value
    if method == "package":
        return node.package == value
    if method == "config.materialized":
        return node.materialized == value
    if method == "source":
        if node.resource_type != "source":
            return False
        full = f"{node.package}.{node.source_name}"
        return any(fnmatch.fnmatchcase(c, value) for c in (full, node.source_name, node.source_name.split(".")[0]))
    if method in ("", "fqn"):
        return node.resource_type != "source" and _fqn_matches(node, value)
    raise DbtError(
        f"dbt selector method {method!r} (in {body!r}) is not supported in DAG definitions; "
        "use tag:, path:, fqn:, resource_type:, package:, source:, config.materialized: or a name."
    )


def _fqn_matches(node: DbtNode, value: str) -> bool:
    # As dbt does: the bare name (which may itself hold dots), or an fqn prefix.
    if fnmatch.fnmatchcase(node.name, value):
        return True
    fqn = ".".join(node.fqn)
    return fnmatch.fnmatchcase(fqn, value) or fqn.startswith(value + ".")
