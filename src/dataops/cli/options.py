"""Option types shared by the subcommands, derived from the settings they override."""

from __future__ import annotations

from pathlib import Path

import annotated_types as at
import click

project_dir_option = click.option(
    "--project-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The dbt project (default: DATAOPS_DBT_PROJECT_DIR, else analytics/dbt).",
)


def setting_range(field: str) -> click.FloatRange:
    """The accepted range of a numeric setting as an option type, so a bad
    ``--scale`` is refused by its option's name, with the settings' own bounds."""
    from dataops.config import Settings

    bounds: dict[str, float | bool] = {}
    for constraint in Settings.model_fields[field].metadata:
        if isinstance(constraint, at.Gt):
            bounds |= {"min": constraint.gt, "min_open": True}
        elif isinstance(constraint, at.Ge):
            bounds |= {"min": constraint.ge}
        elif isinstance(constraint, at.Lt):
            bounds |= {"max": constraint.lt, "max_open": True}
        elif isinstance(constraint, at.Le):
            bounds |= {"max": constraint.le}
    return click.FloatRange(**bounds)
