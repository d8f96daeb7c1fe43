"""One DAG run as dbt saw it: a bar per model and test, the critical path, the slowest models.

The bars are dbt's own start and end times for each node (not Airflow's: a
model task waits from the start of the run, so its Airflow bar does too). The
critical path is the chain of task nodes that decided when the run ended: from
the node that finished last, back through the dependency that finished last,
to a node that waited for none. A node dbt skipped (something upstream failed)
has no times of its own: its bar is a mark at the end of the failure that
stopped it. A model's bar has its task's outcome (failed when one of its tests
failed); each test's bar its own.
"""

from __future__ import annotations

from dataops.runs.records import BUILT_KINDS, NodeRun, RunRecord

SLOWEST = 5


def critical_path(nodes: dict[str, NodeRun]) -> list[str]:
    """The task nodes, first to last, whose chain of dependencies ended the run."""
    timed = {uid: n for uid, n in nodes.items() if n.finished_at is not None}
    if not timed:
        return []
    current = max(timed, key=lambda uid: (timed[uid].finished_at, uid))
    path = [current]
    while True:
        upstream = [d for d in timed[current].depends_on if d in timed and d not in path]
        if not upstream:
            break
        current = max(upstream, key=lambda uid: (timed[uid].finished_at, uid))
        path.append(current)
    return path[::-1]


def _blocker(node: NodeRun, nodes: dict[str, NodeRun], seen: set[str] | None = None) -> NodeRun | None:
    """The failed node upstream of a skipped one (the nearest, walking up its dependencies)."""
    seen = seen if seen is not None else set()
    for dep in node.depends_on:
        if dep in seen or dep not in nodes:
            continue
        seen.add(dep)
        upstream = nodes[dep]
        if upstream.state == "failed":
            return upstream
        found = _blocker(upstream, nodes, seen)
        if found is not None:
            return found
    return None


def timeline(record: RunRecord, slowest: int = SLOWEST) -> dict:
    """The run's timeline as JSON: bars (seconds from dbt's first start), critical path, slowest models."""
    nodes = record.nodes
    starts = [n.started_at for n in nodes.values() if n.started_at]
    origin = min(starts) if starts else None
    path = critical_path(nodes)
    on_path = set(path)

    def offset(moment) -> float | None:
        return round((moment - origin).total_seconds(), 3) if moment and origin else None

    bars = []
    for uid, node in sorted(nodes.items(), key=lambda item: (item[1].started_at is None, item[1].started_at or 0, item[0])):
        blocker = _blocker(node, nodes) if node.state == "skipped" else None
        for member in node.members:
            bar = member.to_json()
            if member.unique_id == uid and node.state in {"failed", "skipped"}:
                bar["outcome"] = node.state  # built, but its test failed: the model's task failed
            bar.update(
                node=uid,
                node_name=node.name,
                critical=uid in on_path,
                start_s=offset(member.started_at),
                end_s=offset(member.finished_at),
            )
            if blocker is not None:
                bar["skipped_because"] = blocker.unique_id
                if member.started_at is None:
                    bar["start_s"] = bar["end_s"] = offset(blocker.finished_at)
            bars.append(bar)
        if not node.members:
            # dbt skipped a node and said nothing of its tests: one mark for the node.
            bar = {
                "unique_id": uid, "name": node.name, "kind": node.kind, "status": "skipped", "outcome": "skipped",
                "started_at": None, "finished_at": None, "execution_time": 0.0, "rows_affected": None,
                "node": uid, "node_name": node.name, "critical": False, "start_s": None, "end_s": None,
            }
            if blocker is not None:
                bar["start_s"] = bar["end_s"] = offset(blocker.finished_at)
                bar["skipped_because"] = blocker.unique_id
            bars.append(bar)
    ends = [n.finished_at for n in nodes.values() if n.finished_at]
    built = [n for n in nodes.values() if n.kind in BUILT_KINDS and n.duration is not None]
    ranked = sorted(built, key=lambda n: (-(n.duration or 0.0), n.unique_id))[:slowest]
    return {
        **record.summary_json(),
        "dbt_started_at": origin.isoformat() if origin else None,
        "dbt_finished_at": max(ends).isoformat() if ends else None,
        "elapsed_s": offset(max(ends)) if ends else None,
        "error": record.error,
        "bars": bars,
        "critical_path": path,
        "critical_path_names": [nodes[uid].name for uid in path],
        "slowest": [{"unique_id": n.unique_id, "name": n.name, "execution_time": n.duration, "state": n.state}
                    for n in ranked],
        "failed": sorted(uid for uid, n in nodes.items() if n.state == "failed"),
        "skipped": sorted(uid for uid, n in nodes.items() if n.state == "skipped"),
    }
