"""Commands that follow one another on a project (``dbt parse``, then ``dbt docs
generate``) run in one dbt process where dbt's console script allows
(dataops.dbt.launch.CHAIN), one process each with any other ``dbt``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataops.config import load_settings
from dataops.dbt.docs import has_docs
from dataops.dbt.launch import CHAIN, THEN
from dataops.dbt.manifest import compile_project
from dataops.dbt.profile import DbtProfile
from dataops.dbt.project import DbtProject
from dataops.errors import DbtError

pytestmark = pytest.mark.slow


def _project(root: Path, model_sql: str = "select 1 as id\n") -> Path:
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text('name: shop\nversion: "1.0.0"\nconfig-version: 2\nprofile: shop\n')
    (root / "models" / "orders.sql").write_text(model_sql)
    (root / "profiles.yml").write_text(
        f"shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {root / 'dev.duckdb'}\n"
    )
    return root


def _dbt_project(project_dir: Path, tmp_path: Path, dbt_bin: Path | None = None) -> DbtProject:
    overrides = {"dbt_bin": dbt_bin} if dbt_bin else {}
    settings = load_settings(state_dir=tmp_path / "state", **overrides)
    return DbtProject.from_settings(settings, project_dir, DbtProfile(project_dir))


def _processes(monkeypatch) -> list[list[str]]:
    """The argv of each dbt process the runner starts."""
    import subprocess

    started: list[list[str]] = []
    real_popen = subprocess.Popen

    def popen(argv, *args, **kwargs):
        started.append(list(argv))
        return real_popen(argv, *args, **kwargs)

    monkeypatch.setattr("dataops.dbt.runner.subprocess.Popen", popen)
    return started


def test_parse_then_docs_run_in_one_dbt_process(tmp_path, monkeypatch):
    project = _dbt_project(_project(tmp_path / "shop"), tmp_path)
    started = _processes(monkeypatch)
    compiled = compile_project(project, tmp_path / "target", docs=True)

    assert len(started) == 1 and started[0][1:3] == ["-c", CHAIN], started
    commands = " ".join(started[0][3:]).split(f" {THEN} ")
    assert [c.split(" --project-dir")[0].split("--no-use-colors ")[1] for c in commands] == ["parse", "docs generate"]
    assert "model.shop.orders" in compiled.graph.nodes
    assert has_docs(tmp_path / "target")
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    assert catalog["nodes"] == {} and catalog["errors"] is None  # --empty-catalog: no warehouse query


def test_a_failed_parse_stops_the_chain_and_says_which_commands(tmp_path, monkeypatch):
    project = _dbt_project(_project(tmp_path / "shop", "select {{ oops( }}\n"), tmp_path)
    started = _processes(monkeypatch)
    with pytest.raises(DbtError) as failure:
        compile_project(project, tmp_path / "target", docs=True)

    assert len(started) == 1
    message = str(failure.value)
    # dbt's exit code for an error (as `dbt parse` alone gives it) and its own words, naming the model.
    assert "dbt parse, then docs generate failed (exit code 2)" in message, message
    assert "Compilation Error in model orders (models/orders.sql)" in message, message
    assert not (tmp_path / "target" / "index.html").exists()


def test_another_dbt_runs_the_same_commands_one_process_each(tmp_path, monkeypatch):
    real = load_settings().dbt_bin
    wrapper = tmp_path / "dbt-wrapper"
    wrapper.write_text(f'#!/bin/sh\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    project = _dbt_project(_project(tmp_path / "shop"), tmp_path, dbt_bin=wrapper)
    started = _processes(monkeypatch)
    compiled = compile_project(project, tmp_path / "target", docs=True)

    assert [argv[0] for argv in started] == [str(wrapper), str(wrapper)]
    assert [argv[argv.index("--no-use-colors") + 1] for argv in started] == ["parse", "docs"]
    assert "model.shop.orders" in compiled.graph.nodes and has_docs(tmp_path / "target")
