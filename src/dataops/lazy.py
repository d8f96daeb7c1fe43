"""Package exports loaded on first use.

DAG files import small modules of these packages at every parse; a package
``__init__`` that imported all of its exports eagerly would make them pay for
the settings, the runner and the loaders too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], object], list[str]]:
    """``__getattr__, __all__ = lazy_exports(__name__, {"Name": "package.module", ...})``."""

    def __getattr__(name: str) -> object:
        if name in exports:
            return getattr(import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__, sorted(exports)
