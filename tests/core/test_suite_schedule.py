"""``make test`` hands the costliest test files out first (tests/conftest.py): the list must name
files that exist, and xdist must keep the order it is given."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _conftest():
    """tests/conftest.py as pytest loaded it (other folders' conftest modules are loaded too)."""
    path = ROOT / "tests" / "conftest.py"
    (module,) = [m for m in list(sys.modules.values()) if getattr(m, "__file__", None) == str(path)]
    return module


def test_the_files_started_first_exist_and_the_longest_lead():
    conftest = _conftest()
    missing = [f for f in conftest.FIRST_FILES if not (ROOT / f).is_file()]
    assert not missing, f"tests/conftest.py FIRST_FILES names files that are gone: {missing}"
    assert conftest.FIRST_FILES[: len(conftest.LONGEST_FILES)] == conftest.LONGEST_FILES
    assert len(set(conftest.FIRST_FILES)) == len(conftest.FIRST_FILES)


def test_make_test_keeps_the_suites_order_across_workers():
    # pytest-xdist's default (--loadscope-reorder) hands out the files with most tests first,
    # which put the longest files last and made them the suite's tail.
    (recipe,) = re.findall(r"^test-platform:.*\n\t(.*)$", (ROOT / "Makefile").read_text(), re.M)
    assert "--dist loadfile" in recipe and "--no-loadscope-reorder" in recipe, recipe


def test_the_cpu_line_counts_busy_time_only():
    from machine_cpu import Reading, busy_seconds, summary

    # user nice system idle iowait irq softirq steal guest guest_nice, in ticks of 1/100 s
    before = "cpu  1000 50 300 9000 200 10 40 500 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n"
    after = "cpu  1900 150 500 9500 900 10 90 900 0 0\n"
    assert busy_seconds(before, 100) == 14.0
    assert busy_seconds(after, 100) == 26.5
    line = summary(Reading(10.0, busy_seconds(before, 100)), Reading(16.0, busy_seconds(after, 100)), 2)
    assert line.startswith("machine CPU: 12 CPU-s in 6 s, 2.08 of 2 cores busy"), line
    with pytest.raises(ValueError, match="not /proc/stat"):
        busy_seconds("intr 1 2 3\n", 100)
