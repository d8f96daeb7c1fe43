"""The platform's benchmarks, printed as tables and written to bench/results/latest.json.

    python bench/run.py           # the full benchmark (tens of minutes)
    python bench/run.py --quick   # about 15 minutes: fewer repetitions, a smaller cosmos project

What runs, in one workspace and on one local Airflow started once (see workspace.py):

* DAG-file parse time of a synthetic project with 1,000 models, in fresh
  interpreters (``parse_s_1000``) and warm (``parse_s_1000_warm``).
* TICKIT (5 models) and a synthetic project of 200 models: a DAG run through
  Airflow against a bare ``dbt build``, alternating, same project and data;
  ``ratio_tickit`` and ``ratio_200`` are the medians' ratios.
* A synthetic project of 20 models through astronomer-cosmos in local mode
  (one dbt process per task, one at a time: DuckDB takes one writer):
  ``cosmos_over_ours_20`` = cosmos's run ÷ ours.
* On PostgreSQL, which takes parallel writers, the 200-model project (20 with
  --quick) through ours (direct publish, as cosmos builds) and cosmos's local
  mode with four dbt processes at once (Airflow's parallelism; ours runs one
  dbt with four threads): ``cosmos_local_over_ours_<n>_pg``, one run each, on
  an Airflow of its own (bench_cosmos_pg.py). This is the fair comparison at
  200 models; cosmos one task at a time on DuckDB at 200 models took 19 to 26
  minutes of the bench and said less. Needs the PostgreSQL server of the
  DATAOPS_PG_* settings.
* ``--n1000`` adds the DAG-file parse at N=2,000 (``parse_s_2000``) and,
  last, one Airflow run and one bare build at N=1,000 and at N=2,000
  (``ratio_1000``, ``triggerer_cpu_s_1000``, ``scheduler_cpu_s_1000``, the
  same ``_2000``), each bounded to 20 minutes. Both are first builds: dbt
  parses the project from scratch and builds into empty schemas in each.
* Per Airflow run: the triggerer's CPU (supervisor and trigger process), the
  scheduler's own CPU, the DAG processor's with its parsing processes
  (``dag_processor_cpu_s_200``), ``trigger_to_done_s`` (what a user who
  triggers a run waits, the scheduler's pick-up included) and the stack's peak
  PSS, per component (memory.py); ``idle_pss_mb``: the stack with no run going.
* astronomer-cosmos's watcher mode (one ``dbt build``, each model task a
  sensor) on the same 200 models: ``cosmos_watcher_over_ours_200``.
* ``peak_rss_mb``: the largest sum of the resident memory of every process of
  the Airflow stack (API server, scheduler, DAG processor, triggerer, task
  processes and dbt) seen during our N=200 run.
* TICKIT's generator and loader figures (bench_generator.py).
* ``publish_s`` and ``publish_to_live_s``: a one-line change published, and
  the first task of a run on it, on the services stack (bench_delivery.py).
* ``wap_overhead_tickit``: a TICKIT run with the test-gated publish (the
  default) divided by the same DAG with ``publish="direct"``, alternated;
  ``publish_s_200``: the publish step alone for 200 models, on DuckDB and
  PostgreSQL (bench_publish.py).
* ``ecs_parse_saved_over_cold_1000``: dbt's parse in the dbt image's
  entrypoint, a fresh container each run, with the parse saved in S3 ÷
  without (bench_ecs_parse.py; N=200 with --quick).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
try:
    import dataops  # noqa: F401
except ImportError:  # a checkout without the package installed
    sys.path.insert(0, str(HERE.parent / "src"))

import bench_cosmos_pg  # noqa: E402
import bench_delivery  # noqa: E402
import bench_ecs_parse  # noqa: E402
import bench_generator  # noqa: E402
import bench_publish  # noqa: E402
import bench_slim_ci  # noqa: E402
from memory import components_mb, tree_processes  # noqa: E402
from runs import Measured, airflow_run, bare_dbt_build  # noqa: E402
from workspace import TICKIT_DAG, TICKIT_DIRECT_DAG, Workspace, cosmos_dag_id, synthetic_dag_id  # noqa: E402

from dataops.local.harness import write_dbt_dag  # noqa: E402
from dataops.errors import DataOpsError  # noqa: E402


# Models of the project that cosmos's local mode builds on DuckDB, one task at a time.
COSMOS_DUCKDB_N = 20


@dataclass(frozen=True)
class Plan:
    parse_runs: int
    tickit_reps: int
    n_reps: int
    # Models of the project that cosmos's local mode builds on PostgreSQL beside ours (bench_cosmos_pg).
    cosmos_pg_n: int
    tickit_scale: float
    # One Airflow run and one bare build at N=1,000: what the triggerer costs at scale.
    run_1000: bool = False

    @classmethod
    def for_mode(cls, quick: bool) -> Plan:
        if quick:
            return cls(parse_runs=2, tickit_reps=2, n_reps=1, cosmos_pg_n=20, tickit_scale=1.0)
        return cls(parse_runs=5, tickit_reps=5, n_reps=3, cosmos_pg_n=200, tickit_scale=1.0)


def main(argv: list[str] | None = None) -> int:
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: stop Airflow
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the short version (about 15 minutes)")
    parser.add_argument(
        "--n1000", action="store_true",
        help="also the DAG-file parse at N=2,000 and, last, one Airflow run and one bare build at N=1,000 and N=2,000",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    args = parser.parse_args(argv)
    plan = Plan.for_mode(args.quick)
    if args.n1000:
        plan = replace(plan, run_1000=True)
    started = time.monotonic()
    results: dict[str, object] = {"quick": args.quick, "plan": plan.__dict__}

    try:
        with tempfile.TemporaryDirectory(prefix="dataops-bench-") as tmp:
            ws = Workspace.create(Path(tmp), plan.tickit_scale)
            _step("TICKIT data and projects")
            ws.load_tickit()
            ws.add_synthetic(200, with_cosmos=True, cosmos_modes=("watcher",))
            ws.add_synthetic(COSMOS_DUCKDB_N, with_cosmos=True)
            results |= measure_parse(ws, plan)
            if plan.run_1000:
                results |= measure_parse(ws, plan, 2000)
            _step("starting Airflow")
            try:
                ws.start_airflow()  # inside: a stack whose DAGs never appear is stopped too
                measure_runs(ws, plan, results)
            finally:
                ws.stop()

        _step(f"PostgreSQL, N={plan.cosmos_pg_n}: ours (a warm-up, then one run) and cosmos's local mode (one run)")
        results |= bench_cosmos_pg.run(plan.cosmos_pg_n)
        _step("test-gated publish: 200 models on DuckDB and PostgreSQL")
        results |= bench_publish.run(quick=args.quick)
        _step("TICKIT generator")
        results |= bench_generator.run(quick=args.quick)
        _step("delivery: publish, and the new version live on the services stack")
        try:
            results |= bench_delivery.run(quick=args.quick)
        except Exception as exc:  # noqa: BLE001  (needs PostgreSQL and Redis; the rest stands without it)
            results["errors_delivery"] = [f"delivery benchmark: {exc}"]
        _step("dataops ci (Slim CI) at N=500")
        results |= bench_slim_ci.run(quick=args.quick)
        _step("dbt's parse in the dbt image on ECS, with and without the saved parse")
        results |= bench_ecs_parse.run(quick=args.quick)
        results["complete"] = True
    finally:
        # Also when interrupted: what was measured is kept, marked incomplete.
        results.setdefault("complete", False)
        results["bench_s"] = round(time.monotonic() - started, 1)
        results["machine"] = machine()
        results["date"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        print_tables(results)
        print(f"\nwrote {args.out}")
    return 0


def measure_parse(ws: Workspace, plan: Plan, n: int = 1000, runs: int | None = None) -> dict[str, float]:
    _step(f"DAG-file parse at N={n:,}")
    project = ws.add_synthetic_project_only(n)
    dag_file = write_dbt_dag(ws.root / "parse-dags", f"synthetic_{n}", project)
    probes = []
    for _ in range(runs or plan.parse_runs):
        out = subprocess.run(
            [sys.executable, str(HERE / "parse_probe.py"), str(dag_file)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"},
        )
        probes.append(json.loads(out.stdout.strip().splitlines()[-1]))

    def med(key: str) -> float:
        return round(statistics.median(p[key] for p in probes), 3)

    figures = {
        f"parse_s_{n}": med("first_s"),
        f"parse_s_{n}_warm": med("warm_s"),
        f"parse_cpu_s_{n}": med("first_cpu_s"),
        f"parse_cpu_s_{n}_warm": med("warm_cpu_s"),
        f"serialize_s_{n}": med("serialize_s"),
    }
    if n == 1000:
        figures |= {"airflow_import_s": med("airflow_s"), "parse_runs": len(probes)}
    return figures


def measure_idle(ws: Workspace, settle_s: float = 20, samples: int = 5, when: str = "") -> dict[str, object]:
    """The stack's memory with no run going: PSS (and RSS) summed, and per component."""
    _step(f"idle memory{when} (after {settle_s:.0f} s, {samples} samples)")
    time.sleep(settle_s)
    taken = []
    for _ in range(samples):
        taken.append(components_mb(tree_processes(ws.airflow_pids)))
        time.sleep(1)
    totals = sorted(taken, key=lambda c: sum(p for p, _ in c.values()))
    median = totals[len(totals) // 2]
    return {
        "idle_pss_mb": round(sum(p for p, _ in median.values()), 1),
        "idle_rss_mb": round(sum(r for _, r in median.values()), 1),
        "idle_pss_rss_mb_by_component": {k: list(v) for k, v in median.items()},
    }


def measure_runs(ws: Workspace, plan: Plan, figures: dict[str, object]) -> None:
    """Adds its figures to ``figures`` as they are measured."""
    tickit = ws.projects[TICKIT_DAG]
    syn200 = ws.projects[synthetic_dag_id(200)]

    figures |= measure_idle(ws)

    _step("warm-up (one run of each, not counted)")
    airflow_run(ws, TICKIT_DAG)
    bare_dbt_build(ws, tickit)
    airflow_run(ws, synthetic_dag_id(200))
    bare_dbt_build(ws, syn200)

    _step(f"TICKIT: {plan.tickit_reps} x (Airflow run, bare dbt build)")
    ours, bare = _alternate(ws, TICKIT_DAG, tickit, plan.tickit_reps)
    figures |= _ratio("tickit", ours, bare)

    _step(f"TICKIT: {plan.tickit_reps} x (run with the test-gated publish, run with publish='direct')")
    # Warm-up: a run in each of the DAG's places (the first in a place parses the project fully), and one direct.
    for _ in range(ws.settings.publish_keep + 2):
        airflow_run(ws, TICKIT_DAG)
    airflow_run(ws, TICKIT_DIRECT_DAG)
    gated, direct = [], []
    for _ in range(plan.tickit_reps):
        gated.append(airflow_run(ws, TICKIT_DAG))
        direct.append(airflow_run(ws, TICKIT_DIRECT_DAG))
    figures["wap_run_s_tickit"] = round(statistics.median(m.seconds for m in gated), 2)
    figures["direct_run_s_tickit"] = round(statistics.median(m.seconds for m in direct), 2)
    figures["wap_overhead_tickit"] = round(figures["wap_run_s_tickit"] / figures["direct_run_s_tickit"], 3)

    _step(f"N=200: {plan.n_reps} x (Airflow run, bare dbt build)")
    ours200, bare200 = _alternate(ws, synthetic_dag_id(200), syn200, plan.n_reps)
    figures |= _ratio("200", ours200, bare200)
    figures |= _run_figures("200", ours200)
    figures["peak_rss_mb"] = figures.pop("peak_rss_mb_200")
    figures["peak_pss_mb"] = figures.pop("peak_pss_mb_200")
    figures["peak_pss_rss_mb_by_component"] = figures.pop("peak_pss_rss_mb_by_component_200")
    figures["trigger_to_done_s"] = figures["trigger_to_done_s_200"]
    # Idle again once runs have gone through: the components keep what the runs made them touch
    # (the triggerer's and scheduler's heaps, the pages each LocalExecutor worker has written to
    # since it was forked from the scheduler), so this, not the figure at the start, is what a
    # stack that has been running for a while holds.
    after = measure_idle(ws, settle_s=10, when=" after the runs so far")
    figures |= {key.replace("idle_", "idle_after_runs_", 1): value for key, value in after.items()}
    figures["peak_rss_mb_bare_dbt_200"] = round(max(m.peak_rss_mb for m in bare200), 1)
    figures["triggerer_cpu_s_tickit"] = round(statistics.median(m.triggerer_cpu_s for m in ours), 2)
    figures["scheduler_cpu_s_tickit"] = round(statistics.median(m.scheduler_cpu_s for m in ours), 2)

    n = COSMOS_DUCKDB_N
    _step(f"astronomer-cosmos, local mode, N={n} (one run)")
    try:
        cosmos = airflow_run(ws, cosmos_dag_id(n), timeout_s=7200)
    except (RuntimeError, DataOpsError) as exc:  # keep the figures measured so far
        figures["errors"] = [str(exc)]
        return
    ours_n = [airflow_run(ws, synthetic_dag_id(n))]
    figures[f"cosmos_s_{n}"] = round(cosmos.seconds, 2)
    figures[f"cosmos_over_ours_{n}"] = round(cosmos.seconds / statistics.median(m.seconds for m in ours_n), 2)
    figures[f"peak_rss_mb_cosmos_{n}"] = round(cosmos.peak_rss_mb, 1)
    figures |= measure_cosmos_watcher(ws, ours200)
    if plan.run_1000:
        for n in (1000, 2000):
            figures |= measure_large(ws, n)


def measure_cosmos_watcher(ws: Workspace, ours200: list[Measured]) -> dict[str, object]:
    """astronomer-cosmos's watcher mode (one dbt build, each model task a sensor), N=200, one run."""
    _step("astronomer-cosmos, watcher mode, N=200 (one run)")
    try:
        cosmos = airflow_run(ws, cosmos_dag_id(200, "watcher"), timeout_s=3600)
    except (RuntimeError, DataOpsError) as exc:
        return {"errors_cosmos_watcher": [f"cosmos watcher mode, N=200: {exc}"]}
    return {
        "cosmos_watcher_s_200": round(cosmos.seconds, 2),
        "cosmos_watcher_over_ours_200": round(cosmos.seconds / statistics.median(m.seconds for m in ours200), 2),
        "peak_pss_mb_cosmos_watcher_200": round(cosmos.peak_pss_mb, 1),
        "triggerer_cpu_s_cosmos_watcher_200": round(cosmos.triggerer_cpu_s, 2),
    }


def measure_large(ws: Workspace, n: int, timeout_s: float = 1200) -> dict[str, object]:
    """One run at N (1,000 or 2,000) beside one bare build, bounded: a stalled run is a figure too."""
    _step(f"N={n:,}: 1 x (Airflow run, bare dbt build)")
    # Its DAG file only now, so that parsing it does not load the machine during the other figures.
    project = ws.add_synthetic(n)
    ws.api.wait_for_dag(synthetic_dag_id(n), timeout_s=600)
    # Both first builds, side by side: dbt parses the project from scratch and builds into empty
    # schemas in each (our run's parse cache and places are new, as the bare build's target is).
    bare = bare_dbt_build(ws, project)
    try:
        ours = airflow_run(ws, synthetic_dag_id(n), timeout_s=timeout_s)
    except (RuntimeError, DataOpsError) as exc:
        return {f"bare_dbt_s_{n}": round(bare.seconds, 2), f"errors_{n}": [f"N={n:,} run: {exc}"]}
    return _ratio(str(n), [ours], [bare]) | _run_figures(str(n), [ours])


def _run_figures(name: str, runs: list[Measured]) -> dict[str, object]:
    """CPU (medians), the user's wait (median) and memory (the largest) of our runs."""
    peak = max(runs, key=lambda m: m.peak_pss_mb)
    return {
        f"triggerer_cpu_s_{name}": round(statistics.median(m.triggerer_cpu_s for m in runs), 2),
        f"scheduler_cpu_s_{name}": round(statistics.median(m.scheduler_cpu_s for m in runs), 2),
        f"dag_processor_cpu_s_{name}": round(statistics.median(m.dag_processor_cpu_s for m in runs), 2),
        f"trigger_to_done_s_{name}": round(statistics.median(m.trigger_to_done_s for m in runs), 2),
        f"peak_rss_mb_{name}": round(max(m.peak_rss_mb for m in runs), 1),
        f"peak_pss_mb_{name}": round(peak.peak_pss_mb, 1),
        f"peak_pss_rss_mb_by_component_{name}": {k: list(v) for k, v in peak.peak_components.items()},
    }


def _alternate(ws: Workspace, dag_id: str, project: Path, reps: int) -> tuple[list[Measured], list[Measured]]:
    ours, bare = [], []
    for _ in range(reps):
        ours.append(airflow_run(ws, dag_id))
        bare.append(bare_dbt_build(ws, project))
    return ours, bare


def _ratio(name: str, ours: list[Measured], bare: list[Measured]) -> dict[str, float]:
    a = statistics.median(m.seconds for m in ours)
    b = statistics.median(m.seconds for m in bare)
    return {
        f"airflow_run_s_{name}": round(a, 2),
        f"bare_dbt_s_{name}": round(b, 2),
        f"ratio_{name}": round(a / b, 3),
        f"reps_{name}": len(ours),
    }


def machine() -> dict[str, object]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = -1.0
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_1min_at_end": round(load, 2),
    }


TABLES = [
    ("DAG-file parse, N = 1,000 (target <= 0.3 s) and N = 2,000 (target <= 0.5 s)", [
        ("parse_s_2000: fresh interpreter, wall s", "parse_s_2000"),
        ("N=2,000 warm, wall s", "parse_s_2000_warm"),
        ("fresh interpreter, wall s", "parse_s_1000"),
        ("warm, wall s", "parse_s_1000_warm"),
        ("fresh, CPU s", "parse_cpu_s_1000"),
        ("warm, CPU s", "parse_cpu_s_1000_warm"),
        ("serializing the DAG, s", "serialize_s_1000"),
        ("importing Airflow (not counted), s", "airflow_import_s"),
    ]),
    ("Airflow run / bare dbt build", [
        ("TICKIT: Airflow run s", "airflow_run_s_tickit"),
        ("TICKIT: bare dbt build s", "bare_dbt_s_tickit"),
        ("ratio_tickit (target <= 1.2)", "ratio_tickit"),
        ("N=200: Airflow run s", "airflow_run_s_200"),
        ("N=200: bare dbt build s", "bare_dbt_s_200"),
        ("ratio_200 (target <= 1.05)", "ratio_200"),
        ("N=1,000: Airflow run s", "airflow_run_s_1000"),
        ("N=1,000: bare dbt build s", "bare_dbt_s_1000"),
        ("ratio_1000 (target <= 1.10)", "ratio_1000"),
        ("N=2,000: Airflow run s", "airflow_run_s_2000"),
        ("N=2,000: bare dbt build s", "bare_dbt_s_2000"),
        ("ratio_2000", "ratio_2000"),
        ("trigger_to_done_s (N=200: trigger request to run seen done)", "trigger_to_done_s"),
    ]),
    ("astronomer-cosmos (local mode) / ours", [
        ("cosmos run s, N=200", "cosmos_s_200"),
        ("cosmos_over_ours_200 (target >= 5)", "cosmos_over_ours_200"),
        ("cosmos run s, N=20", "cosmos_s_20"),
        ("cosmos_over_ours_20", "cosmos_over_ours_20"),
        ("cosmos watcher mode run s, N=200", "cosmos_watcher_s_200"),
        ("cosmos_watcher_over_ours_200", "cosmos_watcher_over_ours_200"),
        ("ours on PostgreSQL run s, N=200", "airflow_run_s_200_pg"),
        ("cosmos local mode on PostgreSQL run s, N=200", "cosmos_local_s_200_pg"),
        ("cosmos_local_over_ours_200_pg", "cosmos_local_over_ours_200_pg"),
        ("ours on PostgreSQL run s, N=20", "airflow_run_s_20_pg"),
        ("cosmos_local_over_ours_20_pg", "cosmos_local_over_ours_20_pg"),
    ]),
    ("Test-gated publish (write-audit-publish)", [
        ("TICKIT run, publish per run s", "wap_run_s_tickit"),
        ("TICKIT run, publish direct s", "direct_run_s_tickit"),
        ("wap_overhead_tickit (target <= 1.05)", "wap_overhead_tickit"),
        ("publish step, 200 models, DuckDB s", "publish_s_200_duckdb"),
        ("publish step, 200 models, PostgreSQL s", "publish_s_200_postgres"),
        ("publish_s_200 (target <= 1)", "publish_s_200"),
    ]),
    ("Delivery (bench_delivery.py)", [
        ("publish_s: dataops publish, TICKIT", "publish_s"),
        ("publish_to_live_s (target <= 10)", "publish_to_live_s"),
    ]),
    ("dataops ci, N = 500, one leaf model changed (bench_slim_ci.py)", [
        ("slim_ci_s_500: wall s (target <= 60)", "slim_ci_s_500"),
        ("its dbt build s", "slim_ci_build_s_500"),
        ("full dbt build s", "full_build_s_500"),
        ("slim_ci_ratio_500", "slim_ci_ratio_500"),
        ("dbt's fixed start-up s", "slim_ci_startup_s_500"),
        ("slim_ci_ratio_net_500 (target <= 0.05)", "slim_ci_ratio_net_500"),
    ]),
    ("dbt's parse in the dbt image on ECS, N = 1,000 (bench_ecs_parse.py; 200 with --quick)", [
        ("cold: CPU s (every run before the saved parse)", "ecs_parse_cold_cpu_s_1000"),
        ("saved parse: CPU s", "ecs_parse_saved_cpu_s_1000"),
        ("saved ÷ cold", "ecs_parse_saved_over_cold_1000"),
        ("cold, N = 200: CPU s", "ecs_parse_cold_cpu_s_200"),
        ("saved parse, N = 200: CPU s", "ecs_parse_saved_cpu_s_200"),
        ("saved ÷ cold, N = 200", "ecs_parse_saved_over_cold_200"),
    ]),
    ("Memory and the triggerer", [
        ("peak_rss_mb (whole stack, N=200 run)", "peak_rss_mb"),
        ("peak RSS MB, bare dbt build N=200", "peak_rss_mb_bare_dbt_200"),
        ("peak RSS MB, cosmos run", "peak_rss_mb_cosmos_200"),
        ("triggerer CPU s per run, TICKIT", "triggerer_cpu_s_tickit"),
        ("triggerer CPU s per run, N=200", "triggerer_cpu_s_200"),
        ("triggerer CPU s per run, N=1,000", "triggerer_cpu_s_1000"),
        ("peak_rss_mb, whole stack, N=1,000 run", "peak_rss_mb_1000"),
        ("idle_pss_mb (whole stack, target <= 800)", "idle_pss_mb"),
        ("idle RSS sum MB", "idle_rss_mb"),
        ("idle PSS MB after the TICKIT and N=200 runs", "idle_after_runs_pss_mb"),
        ("peak_pss_mb (N=200 run, target <= 1,200)", "peak_pss_mb"),
        ("peak PSS MB, N=1,000 run", "peak_pss_mb_1000"),
        ("triggerer_cpu_s_200 (target <= 2)", "triggerer_cpu_s_200"),
        ("triggerer_cpu_s_1000 (target <= 10)", "triggerer_cpu_s_1000"),
        ("triggerer CPU s per run, N=2,000", "triggerer_cpu_s_2000"),
        ("scheduler_cpu_s_200", "scheduler_cpu_s_200"),
        ("scheduler_cpu_s_1000", "scheduler_cpu_s_1000"),
        ("scheduler CPU s per run, N=2,000", "scheduler_cpu_s_2000"),
    ]),
]


def print_tables(results: dict[str, object]) -> None:
    for title, rows in TABLES:
        shown = [(label, results[key]) for label, key in rows if key in results]
        if not shown:
            continue
        print(f"\n{title}")
        print("-" * len(title))
        for label, value in shown:
            print(f"  {label:<44} {value:>10}")
    for key in sorted(k for k in results if k.startswith(("idle_pss_rss_mb_by_component", "idle_after_runs_pss_rss_mb_by_component", "peak_pss_rss_mb_by_component"))):
        print(f"\n{key} (PSS MB, RSS MB)")
        for name, (pss, rss) in results[key].items():
            print(f"  {name:<44} {pss:>10} {rss:>10}")
    others = {k: v for k, v in results.items() if k.startswith(("generate_", "load_duckdb_"))}
    if others:
        print("\nTICKIT generator (bench_generator.py)")
        for key, value in sorted(others.items()):
            print(f"  {key:<44} {value:>10}")
    errors = [e for key in sorted(results) if key.startswith("errors") for e in results[key]]
    if errors:
        print("\nerrors:", *errors, sep="\n  ")
    if not results.get("complete"):
        print("\nincomplete: the benchmark was interrupted; the figures above are what it measured")
    m = results["machine"]
    print(f"\n{m['cpus']} CPUs, {m['cpu_model']}, Python {m['python']}, load {m['load_1min_at_end']}; {results['date']}")


def _step(text: str) -> None:
    print(f"==> {text}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
