"""The check every ``dataops`` command starts with: each ``DATAOPS_*`` name set
in ``.env`` or the environment is one the platform reads, so a misspelt one
(``DATAOPS_TARGT=postgres``) stops the command with the closest real name
instead of being ignored in silence.

It lives with the command, above every package, because the names come from
all of them: the settings classes and the dbt project (dataops.settings_names),
the delivery settings and the local stacks' own variables (loaded here).
"""

from __future__ import annotations

from pathlib import Path


def known_names(dbt_project_dir: Path | None = None) -> frozenset[str]:
    # Loaded for their settings classes, which the names are read from.
    import dataops.delivery.settings  # noqa: F401
    from dataops.local.services.config import OPTION_VARIABLES
    from dataops.local.services.environment import STACK_ID_VARIABLE
    from dataops.settings_names import known_names as settings_known_names

    return settings_known_names(dbt_project_dir, extra={*OPTION_VARIABLES.values(), STACK_ID_VARIABLE})


def check_environment() -> None:
    """Raises ConfigError naming every unknown ``DATAOPS_*`` name, with the closest real one."""
    from dataops import paths
    from dataops.config import load_settings
    from dataops.errors import ConfigError
    from dataops.settings_names import check_names

    try:
        project_dir = load_settings().dbt_project_dir
    except ConfigError:
        # A bad value, not a bad name: the command reports it, with its own options applied.
        project_dir = paths.dbt_project_dir()
    check_names(dbt_project_dir=project_dir, extra_known=known_names(project_dir))
