"""What changed: the models dbt's ``state:modified`` selects against production.

One ``dbt ls`` in the run's own target folder: it parses the project as
changed (its ``manifest.json`` is the run's; the build after it reuses the
parse) and lists the modified models with their files, which the lint step
reads. Without production's manifest every model counts as changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dataops.dbt.runner import DbtInvocation, DbtRunner, describe_failure
from dataops.errors import DbtError


@dataclass(frozen=True)
class ChangedModel:
    unique_id: str
    name: str
    # Relative to the project, e.g. models/marts/x.sql.
    path: str


@dataclass(frozen=True)
class Changes:
    models: tuple[ChangedModel, ...]
    # The project as changed, parsed by dbt (with the run's schema).
    manifest_path: Path
    seconds: float


def list_changes(runner: DbtRunner, target_path: Path, state_dir: Path | None) -> Changes:
    """The models modified against ``state_dir``'s manifest (all models without one)."""
    listed: list[ChangedModel] = []

    def on_event(event: dict) -> None:
        if (event.get("info") or {}).get("name") != "PrintEvent":
            return
        try:
            item = json.loads((event.get("data") or {}).get("msg") or "")
        except ValueError:
            return
        if isinstance(item, dict) and {"unique_id", "name", "original_file_path"} <= set(item):
            listed.append(ChangedModel(item["unique_id"], item["name"], item["original_file_path"]))

    extra = ["--resource-type", "model", "--output", "json"]
    extra += ["--output-keys", "unique_id", "name", "original_file_path"]
    if state_dir is not None:
        extra += ["--state", str(state_dir)]
    run = runner.invoke(
        DbtInvocation(
            command="ls",
            select=["state:modified"] if state_dir is not None else (),
            target_path=target_path,
            extra_args=extra,
        ),
        on_event,
    )
    if not run.succeeded:
        raise DbtError(f"the dbt project does not parse: {describe_failure(run)}")
    models = tuple(sorted(listed, key=lambda m: m.path))
    return Changes(models, Path(target_path) / "manifest.json", run.duration_s)
