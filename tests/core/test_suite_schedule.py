"""``make test`` hands the costliest test files out first (tests/conftest.py): the list must name
files that exist, and xdist must keep the order it is given."""

from __future__ import annotations

import re
import sys
from pathlib import Path

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
