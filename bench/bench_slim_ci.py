"""Benchmark: ``dataops ci`` on a synthetic 500-model project with one leaf model changed.

    python bench/bench_slim_ci.py            # prints the figures
    python bench/bench_slim_ci.py --n 200    # another size

``run(quick)`` returns the figures for ``make bench`` (bench/run.py) to collect:

* ``slim_ci_s_500``: the wall time of the ``dataops ci`` command (a process of
  its own: production's manifest, the changed models, lint, the DAG import,
  the Slim CI build, the schema dropped), target <= 60 s;
* ``slim_ci_ratio_500``: its dbt build's time ÷ a full ``dbt build`` of the
  project (production's, which the change defers to), target <= 0.05 plus
  dbt's fixed start-up;
* ``slim_ci_build_s_500``, ``full_build_s_500``: the two times;
* ``slim_ci_startup_s_500``: dbt's fixed start-up for that build (the same
  deferred ``state:modified+`` build with nothing changed), and
  ``slim_ci_ratio_net_500``: the build net of it ÷ the full build.

Everything is written under a temporary folder (the DuckDB warehouse too)
and removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    import dataops  # noqa: F401
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from dataops.config import load_settings
from dataops.dbt.project import DbtProject
from dataops.dbt.runner import DbtInvocation, DbtRunner
from dataops.dbt.synthetic import generate
from dataops.local.harness import write_dbt_dag

# The synthetic models' style: one line of select targets, "value" as a column name, bare joins.
SQLFLUFF = "[sqlfluff]\ntemplater = jinja\ndialect = duckdb\nexclude_rules = LT09, RF04, AM05, ST09\n"
_BUILD_LINE = re.compile(r"^\s+build\s+(\w+)\s+([\d.]+) s", re.MULTILINE)


def measure(n_models: int, workdir: Path) -> dict[str, float]:
    project = generate(workdir / "project", n_models).path
    (project / ".sqlfluff").write_text(SQLFLUFF)
    write_dbt_dag(workdir / "dags", f"synthetic_{n_models}", project)
    env = {
        **os.environ,
        "DATAOPS_STATE_DIR": str(workdir / "state"),
        "DATAOPS_DUCKDB_PATH": str(workdir / "warehouse.duckdb"),
        "DATAOPS_TARGET": "duckdb",
    }
    settings = load_settings(target="duckdb", state_dir=workdir / "state", duckdb_path=workdir / "warehouse.duckdb")

    # Production: the whole project, as a full build.
    prod = workdir / "prod"
    started = time.perf_counter()
    DbtRunner(DbtProject.from_settings(settings, project)).invoke(
        DbtInvocation(command="build", target_path=prod)
    ).raise_for_status()
    full_s = time.perf_counter() - started

    # dbt's fixed start-up for such a build: the same deferred state:modified+ build with nothing
    # changed (the production manifest read, nothing selected), measured the second time: like the
    # ci build, which reuses the parse its `dbt ls` left in the same target folder.
    for _ in range(2):
        started = time.perf_counter()
        DbtRunner(DbtProject.from_settings(settings, project)).invoke(
            DbtInvocation(command="build", select=("state:modified+",), target_path=workdir / "startup",
                          extra_args=("--defer", "--state", str(prod)))
        ).raise_for_status()
        startup_s = time.perf_counter() - started

    # One leaf model (a mart nothing reads) changed.
    leaf = sorted((project / "models" / "marts").glob("*.sql"))[-1]
    leaf.write_text(leaf.read_text().replace(" as value", " as value", 1).rstrip("\n") + "\nwhere p0.id > 0\n")
    dataops_bin = Path(sys.executable).parent / "dataops"
    started = time.perf_counter()
    done = subprocess.run(
        [str(dataops_bin), "ci", "--project-dir", str(project), "--dags-dir", str(workdir / "dags"),
         "--state", str(prod / "manifest.json")],
        env=env, cwd=workdir, capture_output=True, text=True, check=False,
    )
    ci_s = time.perf_counter() - started
    build = _BUILD_LINE.search(done.stdout)
    if not build or build.group(1) != "passed":
        raise RuntimeError(f"dataops ci failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr[-2000:]}")
    build_s = float(build.group(2))
    return {
        f"slim_ci_s_{n_models}": round(ci_s, 2),
        f"slim_ci_build_s_{n_models}": round(build_s, 2),
        f"full_build_s_{n_models}": round(full_s, 2),
        f"slim_ci_ratio_{n_models}": round(build_s / full_s, 3),
        f"slim_ci_startup_s_{n_models}": round(startup_s, 2),
        # What the target (<= 0.05 plus start-up) measures: the build net of dbt's fixed start-up.
        f"slim_ci_ratio_net_{n_models}": round(max(build_s - startup_s, 0.0) / full_s, 3),
    }


def run(quick: bool = False, n_models: int = 500) -> dict[str, float]:
    """The figures for bench/run.py (the same in quick mode: one measurement is the benchmark)."""
    with tempfile.TemporaryDirectory(prefix="dataops-bench-slim-ci-") as workdir:
        return measure(n_models, Path(workdir))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500, help="models in the synthetic project")
    args = parser.parse_args(argv)
    for key, value in run(n_models=args.n).items():
        print(f"{key:<28} {value:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
