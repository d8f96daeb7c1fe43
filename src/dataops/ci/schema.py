"""The run's throwaway schemas: which the project would write, and dropping them whatever happens.

The run's schema is the profile's (``DATAOPS_MODELS_SCHEMA``); dbt may add
schemas named after it (a model's custom ``schema`` config gives
``<schema>_<custom>``, stored test failures ``<schema>_dbt_test__audit``).
Before anything is built, every model, seed and snapshot of the parsed
project must build under the run's schema: a profile or config that would
write to another schema (production's) stops the run. Afterwards, on
success, failure, Ctrl-C or any error, every such schema is dropped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dataops.ci.errors import CiError
from dataops.config import Settings

log = logging.getLogger(__name__)

_BUILT = ("model", "seed", "snapshot")


@dataclass
class SchemaScope:
    """The schemas a run may create; ``dropped`` once they are gone."""

    schema: str
    schemas: set[str] = field(default_factory=set)
    dropped: tuple[str, ...] = ()
    drop_error: str | None = None

    def __post_init__(self) -> None:
        self.schemas.add(self.schema)

    def owns(self, schema: str | None) -> bool:
        name = (schema or "").lower()
        return name == self.schema or name.startswith(self.schema + "_")

    def adopt_manifest(self, manifest_path: Path) -> None:
        """Records the schemas the parsed project writes; CiError if one is not the run's."""
        manifest = json.loads(Path(manifest_path).read_text())
        project = (manifest.get("metadata") or {}).get("project_name")
        for node in (manifest.get("nodes") or {}).values():
            if project and node.get("package_name") != project:
                continue
            schema = str(node.get("schema") or "")
            if self.owns(schema):
                self.schemas.add(schema.lower())
            elif node.get("resource_type") in _BUILT and (node.get("config") or {}).get("enabled", True):
                raise CiError(
                    f"{node['resource_type']} {node['name']} ({node.get('original_file_path')}) would build into "
                    f"schema {schema}, not the CI run's {self.schema}: the dbt profile must take its schema from "
                    "DATAOPS_MODELS_SCHEMA (env_var('DATAOPS_MODELS_SCHEMA')), and custom schemas must be "
                    "generated from it (dbt's default generate_schema_name); nothing was built."
                )


def drop_sql(schema: str) -> str:
    return f'drop schema if exists "{schema}" cascade'


@contextmanager
def throwaway_schemas(settings: Settings, schema: str,
                      on_drop: Callable[[str], None] | None = None) -> Iterator[SchemaScope]:
    """A SchemaScope whose schemas are dropped on the way out, however it is left."""
    scope = SchemaScope(schema.lower())
    try:
        yield scope
    finally:
        drop_all(settings, scope, on_drop)


def drop_all(settings: Settings, scope: SchemaScope, on_drop: Callable[[str], None] | None = None) -> None:
    warehouse = settings.warehouse()
    if warehouse.execute is None:
        scope.drop_error = f"{warehouse.title} cannot drop schemas from here: drop {', '.join(sorted(scope.schemas))}"
        return
    dropped, failed = [], []
    # Longest first: the run's own schema last, after the ones named after it.
    for name in sorted(scope.schemas, key=lambda s: (-len(s), s)):
        try:
            warehouse.execute(settings, drop_sql(name))
            dropped.append(name)
        except Exception as exc:  # noqa: BLE001  (report it; never hide the run's own outcome)
            log.warning("could not drop schema %s: %s", name, exc)
            failed.append(f"{name} ({str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__})")
    scope.dropped = tuple(sorted(dropped))
    if failed:
        scope.drop_error = (
            f"could not drop schema {', '.join(failed)} in {warehouse.where(settings)}: "
            f"drop it by hand ({drop_sql('NAME')})"
        )
    if on_drop:
        on_drop(scope.drop_error or f"dropped schema {', '.join(scope.dropped)}")
