"""Benchmark: dbt's parse in the dbt image on ECS, with and without the parse saved in S3.

    python bench/bench_ecs_parse.py            # 1,000 models
    python bench/bench_ecs_parse.py --n 200    # another size

``run(quick)`` returns the figures for ``make bench`` (bench/run.py) to collect.
Each run is the image's entrypoint (infra/images/dbt/entrypoint.py) running
``dbt parse`` as a new Fargate container would: the project at a path of its
own (a fresh copy, as each container fetches its bundle afresh), S3 on moto's
server on loopback. Runs alternate, side by side:

* cold: no ``DATAOPS_DBT_PARSE_CACHE_URI``, so dbt parses the whole project,
  as every run did before the entrypoint kept dbt's parse;
* saved: with it, starting from the parse the previous saved run left in S3
  (one warm-up run saves the first).

Figures: ``ecs_parse_cold_cpu_s_<n>`` and ``ecs_parse_saved_cpu_s_<n>`` (CPU
seconds of the entrypoint and dbt, medians), ``ecs_parse_saved_over_cold_<n>``
and the wall times beside. dbt's own start-up (about 2.5 CPU-s of imports)
is in both.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    import dataops  # noqa: F401
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from dataops import paths
from dataops.dbt.synthetic import generate

ENTRYPOINT = paths.repo_root() / "infra" / "images" / "dbt" / "entrypoint.py"
DBT_BIN = paths.repo_root() / ".venv-dbt" / "bin"


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _container(source: Path, workdir: Path, env: dict[str, str], n: int) -> tuple[float, float, str]:
    """One container's run of the entrypoint on a fresh copy of the project: (CPU s, wall s, output)."""
    project = workdir / f"container-{n}" / "dbt"
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("target", "logs"))
    env = {**env, "DATAOPS_DBT_PROJECT_DIR": str(project), "TMPDIR": str(workdir / f"container-{n}")}
    cpu, wall = _children_cpu_s(), time.perf_counter()
    done = subprocess.run([sys.executable, str(ENTRYPOINT), "parse", "--profiles-dir", str(project)],
                          env=env, cwd=project, capture_output=True, text=True)
    cpu, wall = _children_cpu_s() - cpu, time.perf_counter() - wall
    if done.returncode != 0:
        raise RuntimeError(f"the entrypoint's dbt parse failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr}")
    return cpu, wall, done.stdout


def measure(n_models: int, workdir: Path, reps: int) -> dict[str, float]:
    import boto3
    from moto.server import ThreadedMotoServer

    from dataops.local.processes import free_port

    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs each request otherwise
    source = generate(workdir / "project", n_models).path
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        env = {
            **os.environ,
            "PATH": f"{DBT_BIN}{os.pathsep}{os.environ['PATH']}",
            "DATAOPS_DUCKDB_PATH": str(workdir / "warehouse.duckdb"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        }
        for name in ("DATAOPS_BUNDLE_VERSION", "DATAOPS_DBT_PARSE_CACHE_URI", "DATAOPS_DBT_ARTIFACTS_URI"):
            env.pop(name, None)
        boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                     aws_access_key_id="bench", aws_secret_access_key="bench").create_bucket(Bucket="artifacts")
        saved_env = {**env, "DATAOPS_DBT_PARSE_CACHE_URI":
                     f"s3://artifacts/dbt-parse-cache/synthetic_{n_models}/bench/partial_parse.msgpack"}
        _, _, first = _container(source, workdir, saved_env, 0)  # warm-up: saves the first parse
        if "none saved yet" not in first:
            raise RuntimeError(f"the warm-up found a saved parse already:\n{first[-2000:]}")
        cold, saved = [], []
        for rep in range(reps):
            cold.append(_container(source, workdir, env, 2 * rep + 1))
            saved.append(_container(source, workdir, saved_env, 2 * rep + 2))
            if "dbt's saved parse from" not in saved[-1][2]:
                raise RuntimeError(f"a saved run did not find the saved parse:\n{saved[-1][2][-2000:]}")
    finally:
        server.stop()

    def med(runs, i):
        return round(statistics.median(r[i] for r in runs), 2)

    n = n_models
    figures = {
        f"ecs_parse_cold_cpu_s_{n}": med(cold, 0),
        f"ecs_parse_saved_cpu_s_{n}": med(saved, 0),
        f"ecs_parse_cold_s_{n}": med(cold, 1),
        f"ecs_parse_saved_s_{n}": med(saved, 1),
    }
    figures[f"ecs_parse_saved_over_cold_{n}"] = round(figures[f"ecs_parse_saved_cpu_s_{n}"] /
                                                       figures[f"ecs_parse_cold_cpu_s_{n}"], 3)
    return figures


def run(quick: bool = False) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="dataops-bench-ecs-parse-") as tmp:
        return measure(200 if quick else 1000, Path(tmp), reps=1 if quick else 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="models in the synthetic project (default 1000)")
    parser.add_argument("--reps", type=int, default=3, help="pairs of runs (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dataops-bench-ecs-parse-") as tmp:
        figures = measure(args.n, Path(tmp), args.reps)
    for key, value in figures.items():
        print(f"{key:34} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
