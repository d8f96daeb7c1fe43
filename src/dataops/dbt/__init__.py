"""Running dbt projects: where they are, how dbt is invoked, what it reported.

The exports are loaded on first use: DAG files import ``dataops.dbt.graph``
at every parse and must not pay for the settings and runner modules.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "DbtProject": "dataops.dbt.project",
    "NodeResult": "dataops.dbt.results",
    "RunResults": "dataops.dbt.results",
    "DbtInvocation": "dataops.dbt.runner",
    "DbtRunner": "dataops.dbt.runner",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
