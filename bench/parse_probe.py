"""Times the parse of one DAG file in this (fresh) interpreter; prints JSON.

    python bench/parse_probe.py <dag file> [--repeat 3]

Airflow's DAG processor parses each file in a child of a process that has
Airflow imported already, so Airflow's import is timed apart (``airflow_s``).
``first_s`` is the first parse (our package not yet imported), ``warm_s`` the
best of the later ones (the DAG processor pre-imports what DAG files import,
``[dag_processor] parsing_pre_import_modules``, so this is what it pays),
``serialize_s`` what serializing the DAG then costs, as the processor does.
The ``*_cpu_s`` twins are this process's CPU time for the same steps: on a
machine shared with other work they move much less than wall time.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time


def parse(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dag_file")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    import airflow.sdk  # noqa: F401
    from airflow.serialization.serialized_objects import DagSerialization

    airflow_s = time.perf_counter() - started

    started, cpu = time.perf_counter(), time.process_time()
    dag = parse(args.dag_file, "bench_dag_0")
    first_s, first_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    warm, warm_cpu = [], []
    for i in range(1, args.repeat + 1):
        started, cpu = time.perf_counter(), time.process_time()
        dag = parse(args.dag_file, f"bench_dag_{i}")
        warm.append(time.perf_counter() - started)
        warm_cpu.append(time.process_time() - cpu)
    started = time.perf_counter()
    DagSerialization.to_dict(dag)
    serialize_s = time.perf_counter() - started
    json.dump(
        {
            "airflow_s": airflow_s,
            "first_s": first_s,
            "first_cpu_s": first_cpu_s,
            "warm_s": min(warm) if warm else first_s,
            "warm_cpu_s": min(warm_cpu) if warm_cpu else first_cpu_s,
            "serialize_s": serialize_s,
            "tasks": len(dag.tasks),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
