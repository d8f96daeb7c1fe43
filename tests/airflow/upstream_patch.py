"""A patch in patches/ is checked against the pinned Airflow's own file: ``git apply --check``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import ModuleType

from dataops import paths


def assert_applies(
    patch_name: str, module: ModuleType, checkout_path: str, tmp_path: Path, others: dict[str, ModuleType] | None = None,
) -> None:
    """``patches/<patch_name>`` applies to ``module``'s file, placed at ``checkout_path`` of an Airflow checkout
    (and to ``others``' files, by their checkout paths, for a patch of several files)."""
    for path, source in {checkout_path: module, **(others or {})}.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source.__file__, target)
    patch = paths.repo_root() / "patches" / patch_name
    result = subprocess.run(["git", "apply", "--check", str(patch)], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
