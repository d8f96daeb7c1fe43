"""Running dbt projects: where they are, how dbt is invoked, what it reported.

The exports are loaded on first use: DAG files import ``dataops.dbt.graph``
at every parse and must not pay for the settings and runner modules.
"""

from __future__ import annotations

from dataops.lazy import lazy_exports

_EXPORTS = {
    "DbtProject": "dataops.dbt.project",
    "NodeResult": "dataops.dbt.results",
    "RunResults": "dataops.dbt.results",
    "DbtInvocation": "dataops.dbt.runner",
    "DbtRunner": "dataops.dbt.runner",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
