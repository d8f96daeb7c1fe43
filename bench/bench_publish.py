"""Benchmark: the test-gated publish step itself, for 200 models, on DuckDB and PostgreSQL.

    python bench/bench_publish.py          # PostgreSQL from the DATAOPS_PG_* settings, if reachable

``run()`` returns, for ``make bench`` to collect, ``publish_s_200_duckdb`` and
``publish_s_200_postgres``: the median wall time of one publish (one
transaction repointing 200 production views at a new run's tables, recording
the version, then dropping the places no kept version reads) over production
that already holds 200 published views, as every run after the first finds it;
``publish_s_200`` is the larger of the two (target: 1 s). The run places are
made with SQL (tables of 10 rows): publishing never reads or copies the data,
so the size of the tables does not matter.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

try:
    import dataops  # noqa: F401
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from dataops.config import load_settings
from dataops.wap.place import Publishable, Relation, RunPlace
from dataops.wap.publisher import Publisher
from pg_database import bench_database

MODELS = 200


def _place(settings, n: int) -> tuple[RunPlace, list[Publishable]]:
    place = Publisher(settings, keep=2).claim(
        RunPlace("bench", f"run{n}", f"2026-01-01T00:00:{n:02d}", "bench", settings.models_schema)
    )
    session = settings.warehouse().publish_sql().connect(settings)
    try:
        session.execute(f'create schema if not exists "{place.schema}"')
        for i in range(MODELS):
            session.execute(f'create table "{place.schema}"."model_{i}" as select {n} as run, {i} as model, '
                            "x from (values (1), (2), (3), (4), (5), (6), (7), (8), (9), (10)) as t(x)")
    finally:
        session.close()
    items = [Publishable(f"model.bench.model_{i}", "table", Relation(place.schema, f"model_{i}"),
                         Relation(settings.models_schema, f"model_{i}")) for i in range(MODELS)]
    return place, items


def measure(settings, reps: int) -> float:
    publisher = Publisher(settings, keep=2)
    publisher.publish(*_place(settings, 0))  # production now holds 200 published views
    times = []
    for n in range(1, reps + 1):
        place, items = _place(settings, n)
        started = time.perf_counter()
        publisher.publish(place, items)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _postgres(reps: int) -> float | None:
    with bench_database("publish_s_200_postgres") as database:
        if database is None:
            return None
        return measure(load_settings(target="postgres").with_section(database), reps)


def run(quick: bool = False) -> dict[str, float]:
    reps = 3 if quick else 7
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="dataops-bench-publish-") as tmp:
        duckdb = load_settings(target="duckdb", state_dir=Path(tmp), duckdb_path=Path(tmp) / "wh.duckdb")
        figures["publish_s_200_duckdb"] = round(measure(duckdb, reps), 3)
    postgres = _postgres(reps)
    if postgres is not None:
        figures["publish_s_200_postgres"] = round(postgres, 3)
    figures["publish_s_200"] = max(figures.values())
    return figures


if __name__ == "__main__":
    for key, value in run(quick="--quick" in sys.argv).items():
        print(f"{key:<28} {value:>8}")
