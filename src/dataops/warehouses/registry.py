"""The registered warehouses: every module of this package that declares a
``WAREHOUSE``, plus any registered with ``register()`` (a plugin, a test)."""

from __future__ import annotations

import pkgutil
from importlib import import_module

from dataops.errors import ConfigError
from dataops.warehouses.base import Warehouse

_found: dict[str, Warehouse] = {}
_discovered = False


def _warehouses() -> dict[str, Warehouse]:
    global _discovered
    if not _discovered:
        import dataops.warehouses as package

        for module in sorted(info.name for info in pkgutil.iter_modules(package.__path__)):
            declared = getattr(import_module(f"{package.__name__}.{module}"), "WAREHOUSE", None)
            if isinstance(declared, Warehouse):
                _found.setdefault(declared.name, declared)
        _discovered = True
    return _found


def names() -> tuple[str, ...]:
    """The targets, in the order messages list them."""
    return tuple(_warehouses())


def get(name: str) -> Warehouse:
    try:
        return _warehouses()[name]
    except KeyError:
        raise ConfigError(f"unknown target {name!r}: use {listed()} (DATAOPS_TARGET)") from None


def listed(quoted: bool = False) -> str:
    """The targets as a sentence lists them: "duckdb, postgres or redshift"."""
    *others, last = (repr(name) if quoted else name for name in names())
    return f"{', '.join(others)} or {last}" if others else last


def register(warehouse: Warehouse) -> Warehouse:
    """Adds a warehouse declared outside this package; its name must be new."""
    if warehouse.name in _warehouses():
        raise ValueError(f"a warehouse named {warehouse.name!r} is already registered")
    _found[warehouse.name] = warehouse
    return warehouse


def unregister(name: str) -> None:
    _warehouses().pop(name, None)
