"""Benchmark: generating TICKIT and loading it into DuckDB.

    python bench/bench_generator.py              # SF 1 and SF 10
    python bench/bench_generator.py --scale 10   # only the scales given
    python bench/bench_generator.py --quick      # SF 1 only

``run(quick)`` returns the figures for ``make bench`` to collect:
``generate_s_sf1``, ``load_duckdb_s_sf1`` and, unless quick, the same for SF 10.
Everything is written under a temporary folder and removed afterwards.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

try:
    import dataops  # noqa: F401
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from dataops.config import load_settings
from dataops.tickit.generator import generate
from dataops.tickit.loaders.duckdb import DuckDBLoader

SEED = 42


@dataclass(frozen=True)
class Measurement:
    scale: float
    rows: int
    generate_s: float
    megabytes: float
    load_duckdb_s: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.generate_s


def measure(scale: float, workdir: Path) -> Measurement:
    out = workdir / f"sf{scale:g}"
    started = time.perf_counter()
    result = generate(out, scale=scale, seed=SEED, force=True)
    generate_s = time.perf_counter() - started

    settings = load_settings(state_dir=workdir / f"state-sf{scale:g}")
    started = time.perf_counter()
    DuckDBLoader(settings).load(out)
    load_s = time.perf_counter() - started
    return Measurement(scale, sum(result.manifest.rows.values()), generate_s, result.bytes_written / 1e6, load_s)


def measure_all(scales: list[float]) -> list[Measurement]:
    with tempfile.TemporaryDirectory(prefix="tickit-bench-") as workdir:
        return [measure(scale, Path(workdir)) for scale in scales]


def run(quick: bool = False) -> dict[str, float]:
    """The benchmark's figures, keyed for the collected results."""
    figures: dict[str, float] = {}
    for m in measure_all([1.0] if quick else [1.0, 10.0]):
        figures[f"generate_s_sf{m.scale:g}"] = round(m.generate_s, 3)
        figures[f"load_duckdb_s_sf{m.scale:g}"] = round(m.load_duckdb_s, 3)
    return figures


def print_table(measurements: list[Measurement]) -> None:
    header = f"{'scale':>6} {'rows':>12} {'seconds':>8} {'rows/s':>12} {'MB written':>11} {'DuckDB load s':>14}"
    print(header)
    print("-" * len(header))
    for m in measurements:
        print(
            f"{m.scale:>6g} {m.rows:>12,} {m.generate_s:>8.2f} {m.rows_per_s:>12,.0f} "
            f"{m.megabytes:>11.1f} {m.load_duckdb_s:>14.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, action="append", help="scale factor (repeatable)")
    parser.add_argument("--quick", action="store_true", help="SF 1 only")
    args = parser.parse_args(argv)
    scales = args.scale or ([1.0] if args.quick else [1.0, 10.0])
    print_table(measure_all(scales))
    return 0


if __name__ == "__main__":
    sys.exit(main())
