"""``dataops runs --plot FILE``: the history as a PNG, with matplotlib (requirements/dev.txt).

The Airflow UI draws the same picture as SVG (dataops.runs.pages) and needs no
plotting library; this is for those who want a file.
"""

from __future__ import annotations

from pathlib import Path

from dataops.errors import DataOpsError


def plot_history(data: dict, path: Path) -> Path:
    """One panel per model: dbt's duration per run, failures as red crosses, regressions named in the title."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise DataOpsError(
            "dataops runs --plot needs matplotlib: install the pinned one from requirements/dev.txt "
            "(make setup does), or leave out --plot"
        ) from None
    models = data["models"]
    if not models:
        raise DataOpsError(f"{data['dag_id']}: no run has reported a model yet; nothing to plot")
    grown = {r["unique_id"]: r for r in data["regressions"]}
    fig, axes = plt.subplots(len(models), 1, figsize=(9, 1.3 * len(models) + 1), sharex=True, squeeze=False)
    for ax, model in zip(axes[:, 0], models, strict=True):
        ok = [(p["run"], p["duration"]) for p in model["points"] if p["state"] == "success" and p["duration"] is not None]
        bad = [(p["run"], p["duration"] or 0.0) for p in model["points"] if p["state"] != "success"]
        if ok:
            ax.plot(*zip(*ok, strict=True), marker="o", markersize=3, color="#1f77b4", linewidth=1.2)
        for run, duration in bad:
            ax.plot(run, duration, marker="x", markersize=8, color="#d62728", markeredgewidth=2)
        title = model["name"]
        if model["unique_id"] in grown:
            title += f"  (median +{grown[model['unique_id']]['growth_s']:.2f} s)"
        ax.set_title(title, fontsize=9, loc="left")
        ax.set_ylabel("s", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", color="#eee")
    from matplotlib.ticker import MaxNLocator

    axes[-1, 0].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[-1, 0].set_xlabel("run (oldest to latest); red x: failed or skipped", fontsize=8)
    fig.suptitle(f"dbt duration per model, {data['dag_id']}, last {len(data['runs'])} runs", fontsize=11)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
