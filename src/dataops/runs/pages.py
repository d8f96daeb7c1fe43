"""The timeline and history pages: plain HTML with inline SVG, drawn on the server.

No JavaScript and nothing fetched: the Airflow UI shows them in its frame
(an external view of the platform's plugin), and a screenshot of one is the
picture a user sees.
"""

from __future__ import annotations

from html import escape

COLORS = {"success": "#2e9e4f", "warn": "#e0a100", "failed": "#d62728", "skipped": "#9e9e9e"}
CRITICAL = "#1f3b9e"
_STYLE = """
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; background: #fff; }
h1 { font-size: 18px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: #555; margin-bottom: 10px; } .meta b { color: #222; }
table { border-collapse: collapse; } td, th { padding: 2px 10px 2px 0; text-align: left; }
th { font-weight: 600; } .num { text-align: right; font-variant-numeric: tabular-nums; }
.legend span { display: inline-block; margin-right: 14px; }
.swatch { display: inline-block; width: 12px; height: 12px; vertical-align: -2px; margin-right: 4px; }
.failed { color: #d62728; font-weight: 600; } a { color: #1f3b9e; }
svg text { font: 12px system-ui, sans-serif; }
"""


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>{body}</body></html>")


def _legend(critical: bool = True) -> str:
    items = [f"<span><i class='swatch' style='background:{c}'></i>{escape(k)}</span>" for k, c in COLORS.items()]
    if critical:
        items.append(f"<span><i class='swatch' style='background:#fff;outline:3px solid {CRITICAL}'></i>"
                     "critical path</span>")
    return f"<div class='legend'>{''.join(items)}</div>"


def _seconds(value) -> str:
    return "–" if value is None else f"{value:.2f} s"


def timeline_page(data: dict, links: dict[str, str] | None = None) -> str:
    """``data`` from dataops.runs.timeline.timeline."""
    bars = data["bars"]
    total = max([b["end_s"] or 0 for b in bars] + [data.get("elapsed_s") or 0, 0.001])
    label_w, chart_w, row_h = 330, 640, 18
    height = row_h * len(bars) + 30
    rows = []
    for i, bar in enumerate(bars):
        y = 20 + i * row_h
        test = bar["kind"] in {"test", "unit_test"}
        label = ("   " if test else "") + bar["name"]
        weight = "normal" if test else "600"
        color = COLORS.get(bar["outcome"], "#777")
        rows.append(f"<text x='{label_w - 8}' y='{y + 12}' text-anchor='end' font-weight='{weight}' "
                    f"fill='{'#555' if test else '#222'}'>{escape(label[:48])}</text>")
        if bar["start_s"] is None:
            rows.append(f"<text x='{label_w + 4}' y='{y + 12}' fill='#777'>not run</text>")
            continue
        x = label_w + chart_w * bar["start_s"] / total
        width = max(chart_w * ((bar["end_s"] or bar["start_s"]) - bar["start_s"]) / total, 3)
        stroke = f" stroke='{CRITICAL}' stroke-width='3'" if bar["critical"] and not test else ""
        title = (f"{bar['unique_id']}: {bar['status']}, {bar['execution_time']:.2f} s dbt"
                 + (f", {bar['rows_affected']} rows" if bar.get("rows_affected") is not None else "")
                 + (f", skipped because {bar['skipped_because']} failed" if bar.get("skipped_because") else ""))
        rows.append(
            f"<rect class='bar' data-unique-id='{escape(bar['unique_id'])}' data-outcome='{bar['outcome']}' "
            f"data-critical='{str(bar['critical']).lower()}' x='{x:.1f}' y='{y + 2}' width='{width:.1f}' "
            f"height='{row_h - 5}' rx='2' fill='{color}'{stroke}><title>{escape(title)}</title></rect>"
        )
        if bar["outcome"] in {"failed", "skipped"}:
            rows.append(f"<text x='{x + width + 4:.1f}' y='{y + 12}' fill='{color}' font-weight='600'>"
                        f"{escape(bar['outcome'])}</text>")
    ticks = []
    for k in range(6):
        t = total * k / 5
        x = label_w + chart_w * k / 5
        ticks.append(f"<line x1='{x:.1f}' x2='{x:.1f}' y1='14' y2='{height}' stroke='#eee'/>"
                     f"<text x='{x:.1f}' y='11' text-anchor='middle' fill='#777'>{t:.1f}s</text>")
    svg = (f"<svg id='timeline' xmlns='http://www.w3.org/2000/svg' width='{label_w + chart_w + 60}' "
           f"height='{height}'>{''.join(ticks)}{''.join(rows)}</svg>")
    slow = "".join(
        f"<tr><td>{i}.</td><td>{escape(s['name'])}</td><td class='num'>{_seconds(s['execution_time'])}</td></tr>"
        for i, s in enumerate(data["slowest"], 1))
    failed = "".join(f"<li class='failed'>{escape(uid)}</li>" for uid in data["failed"])
    skipped = "".join(f"<li>{escape(uid)}</li>" for uid in data["skipped"])
    path = " → ".join(escape(name) for name in data["critical_path_names"])
    link_html = " · ".join(f"<a href='{escape(href)}'>{escape(text)}</a>" for text, href in (links or {}).items())
    body = (
        f"<h1>dbt timeline of {escape(data['dag_id'])} / {escape(data['run_id'])}</h1>"
        f"<div class='meta'>run <b>{escape(str(data['state']))}</b> · code version <b>{escape(data['code_version'])}</b>"
        f" · dbt {_seconds(data.get('elapsed_s'))} from its first node to its last"
        f"{' · ' + link_html if link_html else ''}</div>"
        f"{_legend()}{svg}"
        f"<h2>Critical path</h2><div id='critical-path'>{path or '–'}</div>"
        f"<h2>Slowest models</h2><table id='slowest'>{slow}</table>"
        + (f"<h2>Failed</h2><ul id='failed'>{failed}</ul>" if failed else "")
        + (f"<h2>Skipped (not built: something upstream failed)</h2><ul id='skipped'>{skipped}</ul>" if skipped else "")
        + "<p class='meta'>Times are dbt's own: each node's start and end as dbt reported them, its status and "
          "execution time as in run_results.json. Airflow's Gantt starts every model task with the run: the model "
          "tasks wait in the triggerer from the start.</p>"
    )
    return _page(f"dbt timeline {data['run_id']}", body)


def history_svg(data: dict, width: int = 900) -> str:
    """One row per model: its dbt duration over the runs (oldest left), failures as red crosses."""
    runs = len(data["runs"])
    models = data["models"]
    label_w, row_h, plot_w = 260, 46, width - 260 - 70
    height = row_h * len(models) + 30
    parts = []
    for i, model in enumerate(models):
        top = 24 + i * row_h
        values = [p["duration"] for p in model["points"] if p["duration"] is not None]
        peak = max(values + [0.001])
        parts.append(f"<text x='{label_w - 8}' y='{top + row_h / 2 + 4}' text-anchor='end' font-weight='600'>"
                     f"{escape(model['name'][:34])}</text>")
        parts.append(f"<line x1='{label_w}' x2='{label_w + plot_w}' y1='{top + row_h - 6}' y2='{top + row_h - 6}' "
                     "stroke='#ddd'/>")
        parts.append(f"<text x='{label_w + plot_w + 6}' y='{top + 12}' fill='#777'>{peak:.2f}s</text>")

        def xy(point):
            x = label_w + (plot_w * point["run"] / max(runs - 1, 1))
            y = top + row_h - 6 - (row_h - 14) * ((point["duration"] or 0) / peak)
            return x, y

        line = [xy(p) for p in model["points"] if p["duration"] is not None and p["state"] == "success"]
        if len(line) > 1:
            coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in line)
            parts.append(f"<polyline points='{coords}' fill='none' stroke='#1f77b4' stroke-width='1.5'/>")
        for point in model["points"]:
            x, y = xy(point)
            tip = escape(f"{point['run_id']}: {point['state']}"
                         + (f", {point['duration']:.2f} s" if point["duration"] is not None else "")
                         + f" (code {point['code_version']})")
            if point["state"] == "success":
                parts.append(f"<circle class='point' data-state='success' cx='{x:.1f}' cy='{y:.1f}' r='3' "
                             f"fill='#1f77b4'><title>{tip}</title></circle>")
            else:
                color = COLORS["failed"] if point["state"] == "failed" else COLORS["skipped"]
                y = top + row_h - 6 - (row_h - 14) * ((point["duration"] or 0) / peak)
                parts.append(
                    f"<g class='point' data-state='{escape(point['state'])}' data-unique-id='{escape(model['unique_id'])}'>"
                    f"<title>{tip}</title><line x1='{x - 5:.1f}' y1='{y - 5:.1f}' x2='{x + 5:.1f}' y2='{y + 5:.1f}' "
                    f"stroke='{color}' stroke-width='2.5'/><line x1='{x - 5:.1f}' y1='{y + 5:.1f}' x2='{x + 5:.1f}' "
                    f"y2='{y - 5:.1f}' stroke='{color}' stroke-width='2.5'/></g>")
    axis = (f"<text x='{label_w}' y='14' fill='#777'>oldest run</text>"
            f"<text x='{label_w + plot_w}' y='14' text-anchor='end' fill='#777'>latest run</text>")
    return (f"<svg id='history' xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'>"
            f"{axis}{''.join(parts)}</svg>")


def _ratio(value) -> str:
    return "" if value is None else f"x{value}"


def history_page(data: dict, links: dict[str, str] | None = None) -> str:
    regressions = "".join(
        f"<tr><td>{escape(r['name'])}</td><td class='num'>{_seconds(r['median_before_s'])}</td>"
        f"<td class='num'>{_seconds(r['median_recent_s'])}</td><td class='num'>+{r['growth_s']:.2f} s</td>"
        f"<td class='num'>{_ratio(r['growth_ratio'])}</td></tr>"
        for r in data["regressions"])
    table = (f"<table id='regressions'><tr><th>model</th><th>median before</th><th>median recent</th>"
             f"<th>growth</th><th></th></tr>{regressions}</table>") if regressions else \
        "<p id='regressions'>No model's median time grew (or fewer than two runs).</p>"
    failures = sum(1 for m in data["models"] for p in m["points"] if p["state"] == "failed")
    link_html = " · ".join(f"<a href='{escape(href)}'>{escape(text)}</a>" for text, href in (links or {}).items())
    body = (
        f"<h1>dbt model history of {escape(data['dag_id'])}</h1>"
        f"<div class='meta'>the last <b>{len(data['runs'])}</b> runs · <b>{len(data['models'])}</b> models · "
        f"<b>{failures}</b> failed builds marked ✕{' · ' + link_html if link_html else ''}</div>"
        f"<h2>Regressions: median dbt time, older half of the runs vs recent half</h2>{table}"
        f"<h2>Duration per model and run (dbt's execution time; ✕ failed, grey ✕ skipped)</h2>{history_svg(data)}"
    )
    return _page(f"dbt history {data['dag_id']}", body)


def docs_missing_page(dag_id: str, run_id: str | None, reason: str) -> str:
    return _page("dbt docs", f"<h1>dbt docs of {escape(dag_id)}</h1><p>{escape(reason)}</p>")
