"""The steps of ``dataops ci``, in order, inside the run's throwaway schemas.

1. production's manifest (``state``), 2. what changed (``changes``: one
``dbt ls``, which also parses the project as changed), 3. lint of the changed
models, 4. the DAG files import against the changed project, 5. the Slim CI
build. Lint and DAG failures do not stop the build: the analyst gets every
verdict from one run. The schemas are dropped at the end whatever happened.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dataops.ci import naming
from dataops.ci.build import slim_build
from dataops.ci.changes import list_changes
from dataops.ci.dags import check_dags
from dataops.ci.lint import lint_files
from dataops.ci.schema import throwaway_schemas
from dataops.ci.state import resolve_state
from dataops.ci.summary import FAILED, PASSED, SKIPPED, CiReport, Step
from dataops.config import Settings
from dataops.dbt.fingerprint import project_fingerprint
from dataops.dbt.manifest import default_graph_path, graph_from_manifest
from dataops.dbt.project import DbtProject
from dataops.dbt.results import RunResults
from dataops.dbt.runner import DbtRun, DbtRunner, describe_failure

Progress = Callable[[str], None]
_BUILT_TYPES = ("model", "seed", "snapshot")


@dataclass(frozen=True)
class CiOptions:
    project_dir: Path | None = None
    # None: the project's sibling "dags" folder (analytics/dags for analytics/dbt), when there is one.
    dags_dir: Path | None = None
    # A manifest.json, its folder or a URL; None: the current published bundle's.
    state: str | None = None
    # None: ci_<branch or pull request>_<random>.
    schema: str | None = None
    # Where dbt writes its artifacts (kept); None: a temporary folder, removed.
    target_path: Path | None = None
    lint: bool = True
    dags: bool = True


def run_ci(settings: Settings, options: CiOptions = CiOptions(), progress: Progress = lambda _: None) -> CiReport:
    """Runs every step and returns the report; the schemas are gone when it returns or raises."""
    started = time.monotonic()
    schema = options.schema or naming.ci_schema_name(naming.change_label())
    ci_settings = settings.model_copy(update={"models_schema": schema})
    project = DbtProject.from_settings(ci_settings, options.project_dir)
    work = Path(tempfile.mkdtemp(prefix="dataops-ci-"))
    target_path = Path(options.target_path or work / "target").resolve()
    report = CiReport(schema, settings.target, "", False)
    progress(f"schema {schema} in {settings.warehouse().title}, dropped afterwards")
    try:
        with throwaway_schemas(ci_settings, schema, on_drop=progress) as scope:
            step_started = time.monotonic()
            state = resolve_state(options.state, work, settings)
            report.state_origin, report.state_found = state.origin, state.found
            progress(f"production state: {state.origin}" + ("" if state.found else ": building everything"))

            runner = DbtRunner(project)
            changes = list_changes(runner, target_path, state.state_dir)
            scope.adopt_manifest(changes.manifest_path)
            report.changed = [m.name for m in changes.models]
            report.steps.append(Step(
                "changes", PASSED, time.monotonic() - step_started,
                f"{len(changes.models)} changed model(s)" + ("" if state.found else " (no production state: all)"),
            ))
            progress(f"changes: {_names(report.changed)}")

            report.steps.append(_lint(options, project.project_dir, changes, settings.target, progress))
            report.steps.append(_dags(options, project.project_dir, changes.manifest_path, schema, progress))

            progress("build: dbt build " + ("--select state:modified+ --defer" if state.found else "(everything)"))
            run = slim_build(runner, target_path, state.state_dir, on_event=_build_progress(progress))
            report.steps.append(_build_step(run, changes.manifest_path, report))
        report.dropped, report.drop_error = scope.dropped, scope.drop_error
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report.seconds = time.monotonic() - started
    return report


def _lint(options: CiOptions, project_dir: Path, changes, target: str, progress: Progress) -> Step:
    if not options.lint:
        return Step("lint", SKIPPED, 0.0, "not asked (--no-lint)")
    files = [m.path for m in changes.models if m.path.endswith(".sql")]
    if not files:
        return Step("lint", SKIPPED, 0.0, "no changed SQL model")
    progress(f"lint: {len(files)} file(s) with sqlfluff")
    result = lint_files(project_dir, files, target)
    problems = [f"lint: {project_dir.name}/{v}" for v in result.violations]
    summary = f"{len(files)} file(s), {len(result.violations)} violation(s); {result.config}"
    return Step("lint", PASSED if result.passed else FAILED, result.seconds, summary, problems)


def _dags(options: CiOptions, project_dir: Path, manifest_path: Path, schema: str, progress: Progress) -> Step:
    dags_dir = options.dags_dir or project_dir.parent / "dags"
    if not options.dags:
        return Step("dags", SKIPPED, 0.0, "not asked (--no-dags)")
    if not dags_dir.is_dir():
        return Step("dags", SKIPPED, 0.0, f"no DAG folder ({dags_dir})")
    progress(f"dags: importing {dags_dir}")
    # The DAG files read the project's graph artifact: the one of the project as changed (compiled
    # under the CI run's schema, which the graph records as its target schema).
    graph = graph_from_manifest(json.loads(Path(manifest_path).read_text()), project_fingerprint(project_dir), schema)
    graph.write(default_graph_path(project_dir))
    check = check_dags(dags_dir, project_dir, _shown(dags_dir))
    n_dags = sum(len(ids) for ids in check.dags.values())
    summary = f"{len(check.dags) + len(check.errors)} file(s), {n_dags} DAG(s), {len(check.errors)} import error(s)"
    return Step("dags", PASSED if check.passed else FAILED, check.seconds, summary, [f"dags: {e}" for e in check.errors])


def _build_step(run: DbtRun, manifest_path: Path, report: CiReport) -> Step:
    results = run.results or RunResults((), 0.0)
    paths = _paths(manifest_path)
    problems = []
    for node in results.nodes:
        kind = node.resource_type
        if kind in _BUILT_TYPES:
            if node.status == "skipped":
                report.skipped.append(node.name)
            else:
                report.built.append(node.name)
        elif kind in ("test", "unit_test"):
            (report.tests_failed if node.failed else report.tests_passed).append(node.name)
        if node.failed:
            where = f" ({paths[node.unique_id]})" if node.unique_id in paths else ""
            reason = _reason(node.message) or node.status
            problems.append(f"build: {kind} {node.name}{where}: {node.status}: {reason}")
    if not run.succeeded and not problems:
        problems.append("build: " + describe_failure(run).replace("\n", " "))
    n_models = len(report.built)
    summary = (f"{n_models} built, {len(report.tests_passed)} test(s) passed, {len(report.tests_failed)} failed"
               + (f", {len(report.skipped)} skipped" if report.skipped else ""))
    return Step("build", PASSED if run.succeeded else FAILED, run.duration_s, summary, problems)


def _reason(message: str | None) -> str:
    """dbt's message without its "Runtime Error in model x (path)" header, on one line."""
    lines = [line.strip() for line in (message or "").strip().splitlines() if line.strip()]
    if len(lines) > 1 and re.match(r"^\w+ Error in \w+ ", lines[0]):
        lines = lines[1:]
    return " ".join(lines[:3])[:500]


def _build_progress(progress: Progress) -> Callable[[dict], None]:
    """One line per node dbt finishes."""

    def on_event(event: dict) -> None:
        info = event.get("info") or {}
        if info.get("name") in ("LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult"):
            node = (event.get("data") or {}).get("node_info") or {}
            status = node.get("node_status") or (event.get("data") or {}).get("status") or ""
            progress(f"  {node.get('resource_type', 'node')} {node.get('node_name', '?')}: {status}")

    return on_event


def _paths(manifest_path: Path) -> dict[str, str]:
    try:
        nodes = json.loads(Path(manifest_path).read_text()).get("nodes", {})
    except (OSError, ValueError):
        return {}
    return {uid: n.get("original_file_path", "") for uid, n in nodes.items()}


def _shown(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _names(names: list[str]) -> str:
    return ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "") if names else "none"
