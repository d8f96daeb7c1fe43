"""The warehouses the platform runs against, one module each.

A warehouse module (``duckdb.py``, ``postgres.py``, ``redshift.py``) declares
a ``WAREHOUSE`` (``base.Warehouse``): its settings, the variables its dbt
profile output reads, its SQL dialect and its TICKIT loader. The registry
finds every such module of this package, so adding a warehouse is one module
(and its tests): ``DATAOPS_TARGET``, ``dataops data load --target`` and
``get_loader`` all read the registry.

Warehouse modules import no driver at import time (settings load at every
DAG-file parse); their drivers are imported when a connection is made.
"""

from __future__ import annotations

from dataops.lazy import lazy_exports

_EXPORTS = {
    "SqlDialect": "dataops.warehouses.base",
    "Warehouse": "dataops.warehouses.base",
    "get": "dataops.warehouses.registry",
    "names": "dataops.warehouses.registry",
    "register": "dataops.warehouses.registry",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
