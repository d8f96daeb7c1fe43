"""Narrow fixes to the pinned Airflow, applied where they apply and refused where it changed.

A fix names the Airflow functions whose behaviour it relies on, with the
sha256 of their source as of the pinned Airflow (``relies_on``).
:func:`changed` says what differs in the installed Airflow; a fix applies
only when nothing does (else it logs why and leaves Airflow as it is), and
the tests fail naming what changed. :func:`on_import` runs a fix when its
module is first imported, so that a process that never imports it (every
Airflow process but one, for the triggerer's) pays nothing.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.abc
import importlib.util
import inspect
import logging
import sys
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

PINNED_AIRFLOW = "3.3.2"


def source_digest(qualified: str) -> str:
    """sha256 of the source of ``module:Class.attr`` (a property's getter for a property)."""
    module_name, _, path = qualified.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in path.split("."):
        obj = inspect.getattr_static(obj, part) if inspect.isclass(obj) else getattr(obj, part)
    if isinstance(obj, property):
        obj = obj.fget
    if isinstance(obj, (classmethod, staticmethod)):
        obj = obj.__func__
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()


def changed(relies_on: Mapping[str, str]) -> list[str]:
    """What differs from the Airflow a fix was written for: empty when it applies."""
    from importlib.metadata import version

    found = []
    installed = version("apache-airflow-core")
    if installed != PINNED_AIRFLOW:
        found.append(f"apache-airflow-core is {installed}, not {PINNED_AIRFLOW}")
    for qualified, digest in relies_on.items():
        try:
            actual = source_digest(qualified)
        except (ImportError, AttributeError, OSError, TypeError) as err:
            found.append(f"{qualified} cannot be read ({err})")
            continue
        if actual != digest:
            found.append(f"{qualified} changed (sha256 {actual[:12]}, expected {digest[:12]})")
    return found


def refuse(fix: str, found: list[str], cost: str) -> None:
    log.warning(
        "Not applying dataops's %s: the installed Airflow is not the one it was written for (%s). %s "
        "Update the fix (module %s) for this Airflow.",
        fix, "; ".join(found), cost, fix,
    )


class _PatchOnImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Runs callbacks on a module right after it is first imported."""

    def __init__(self, module_name: str):
        self.module_name = module_name
        self.callbacks: list[Callable[[Any], object]] = []
        self._loader = None

    def find_spec(self, fullname, path, target=None):
        if fullname != self.module_name:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return None
        self._loader = spec.loader
        spec.loader = self
        return spec

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        for callback in self.callbacks:
            callback(module)


def on_import(module_name: str, callback: Callable[[Any], object]) -> None:
    """``callback(module)`` now if ``module_name`` is imported, else right after it is."""
    if module_name in sys.modules:
        callback(sys.modules[module_name])
        return
    hook = next((f for f in sys.meta_path if isinstance(f, _PatchOnImport) and f.module_name == module_name), None)
    if hook is None:
        hook = _PatchOnImport(module_name)
        sys.meta_path.insert(0, hook)
    if callback not in hook.callbacks:
        hook.callbacks.append(callback)
