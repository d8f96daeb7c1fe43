"""The smoke test an operator runs once after deploying to a warehouse
(``dataops smoke``): TICKIT loaded, the models built (by the
redshift_transformations DAG, or by ``dbt build``), and the five models'
row counts compared with the counts computed from the sample files.

Nothing here is Redshift-specific: the same check runs on PostgreSQL and
DuckDB, which is how it is tested without a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dataops.config import Settings
from dataops.local.demo import MODELS
from dataops.tickit.answers import expected_row_counts


@dataclass(frozen=True)
class SmokeResult:
    expected: dict[str, int]
    found: dict[str, int]

    @property
    def mismatches(self) -> list[str]:
        return [
            f"model {model}: {self.found.get(model)} rows, expected {count}"
            for model, count in self.expected.items()
            if self.found.get(model) != count
        ]

    @property
    def passed(self) -> bool:
        return not self.mismatches


def count_sql(settings: Settings, model: str) -> str:
    return f'select count(*) from "{settings.models_schema}"."{model}"'


def build_with_dbt(settings: Settings) -> None:
    """``dbt build`` of the project (every model and test), failing with dbt's reasons.

    Its artifacts go to the state folder (``<DATAOPS_STATE_DIR>/smoke/dbt``), not the project's target/.
    """
    from dataops.dbt import DbtInvocation, DbtProject, DbtRunner

    invocation = DbtInvocation(command="build", target_path=settings.state_dir / "smoke" / "dbt")
    DbtRunner(DbtProject.from_settings(settings)).invoke(invocation).raise_for_status()


def check_models(settings: Settings, data_dir: Path) -> SmokeResult:
    """Counts each model's rows in the warehouse and compares them with the files'."""
    warehouse = settings.warehouse()
    found = {}
    for model in MODELS:
        _, rows = warehouse.query(settings, count_sql(settings, model))
        found[model] = int(rows[0][0])
    return SmokeResult(expected_row_counts(data_dir), found)
