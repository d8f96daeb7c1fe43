"""The models over the last runs: each one's dbt duration per run, failures marked, and regressions.

A model's duration is dbt's execution time for building it (its tests
aside). A regression compares the median of the recent half of the runs with
the median of the older half, for the models that succeeded in at least one
run of each half; the list is sorted by how many seconds the median grew.
"""

from __future__ import annotations

from statistics import median

from dataops.runs.records import BUILT_KINDS, RunRecord


def history(dag_id: str, records: list[RunRecord], top: int = 10) -> dict:
    """``records`` oldest first. JSON: the runs, each model's points, and the regressions."""
    runs = [r.summary_json() for r in records]
    models: dict[str, dict] = {}
    for index, record in enumerate(records):
        for uid, node in record.nodes.items():
            if node.kind not in BUILT_KINDS:
                continue
            own = node.own
            entry = models.setdefault(uid, {"unique_id": uid, "name": node.name, "kind": node.kind, "points": []})
            entry["points"].append({
                "run": index,
                "run_id": record.run_id,
                "code_version": record.code_version,
                "state": node.state,
                "duration": node.duration,
                "started_at": own.started_at.isoformat() if own and own.started_at else None,
                "finished_at": own.finished_at.isoformat() if own and own.finished_at else None,
                "rows_affected": own.rows_affected if own else None,
            })
    return {
        "dag_id": dag_id,
        "runs": runs,
        "models": sorted(models.values(), key=lambda m: m["name"]),
        "regressions": regressions(models.values(), len(records))[:top],
    }


def regressions(models, run_count: int) -> list[dict]:
    """Models whose median duration grew from the older half of the runs to the recent half, most first."""
    if run_count < 2:
        return []
    split = run_count - max(1, run_count // 2)  # runs [0, split) are older, [split, n) recent
    found = []
    for model in models:
        ok = [p for p in model["points"] if p["state"] == "success" and p["duration"] is not None]
        older = [p["duration"] for p in ok if p["run"] < split]
        recent = [p["duration"] for p in ok if p["run"] >= split]
        if not older or not recent:
            continue
        before, after = median(older), median(recent)
        if after <= before:
            continue
        found.append({
            "unique_id": model["unique_id"],
            "name": model["name"],
            "median_before_s": round(before, 3),
            "median_recent_s": round(after, 3),
            "growth_s": round(after - before, 3),
            "growth_ratio": round(after / before, 2) if before > 0 else None,
            "runs_before": len(older),
            "runs_recent": len(recent),
        })
    return sorted(found, key=lambda r: (-r["growth_s"], r["name"]))
