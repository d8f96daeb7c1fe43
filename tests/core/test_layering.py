"""The package's layers only import downwards, and nothing imports in a circle.

The arrows a reader should be able to trust:

    cli  ->  local  ->  airflow  ->  dbt  ->  core (config, errors, paths, lazy, warehouses)
    cli, airflow  ->  wap (write-audit-publish)  ->  dbt, core
    cli  ->  local  ->  tickit  ------------>  core
    cli  ->  delivery  ------------>  dbt  ->  core
    airflow  ->  delivery  (the DAG bundle reads published versions)
    cli  ->  ci  ->  delivery, dbt, warehouses, core
    cli, airflow  ->  runs (a run's dbt timeline, the models' history: plain data)  ->  core

Every ``import`` counts, including those inside functions (lazy imports
still tie the modules together); only ``if TYPE_CHECKING:`` blocks are
left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import dataops

SRC = Path(dataops.__file__).parent

# package -> the packages it must never import.
FORBIDDEN = {
    "core": {"dbt", "airflow", "local", "cli", "tickit", "delivery", "wap", "runs"},
    "runs": {"dbt", "airflow", "local", "cli", "tickit", "delivery", "wap", "ci", "warehouses"},
    "warehouses": {"dbt", "airflow", "local", "cli", "delivery", "wap"},
    "tickit": {"dbt", "airflow", "local", "cli", "delivery", "wap"},
    "dbt": {"airflow", "local", "cli", "tickit", "delivery", "wap"},
    "delivery": {"airflow", "local", "cli", "tickit"},
    "wap": {"airflow", "local", "cli", "tickit", "delivery", "ci"},
    "ci": {"airflow", "local", "cli", "tickit"},
    "airflow": {"local", "cli", "tickit"},
    "local": {"cli"},
    "cli": set(),
}


def _package(module: str) -> str:
    """The layer of a ``dataops...`` module name."""
    parts = module.split(".")
    if len(parts) == 1:
        return "core"
    top = parts[1]
    return top if top in FORBIDDEN else "core"


def _modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path, *, top_level_only: bool, bases_only: bool = False) -> set[str]:
    """The ``dataops`` modules that ``module`` imports (with ``from a import b``:
    ``a`` and ``a.b``, since ``b`` may be a module; only ``a`` with ``bases_only``)."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST, depth: int) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "dataops")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] == "dataops":
                found.add(base)
                if not bases_only:
                    found.update(f"{base}.{a.name}" for a in node.names)
        nested = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        if nested and top_level_only:
            return
        for child in ast.iter_child_nodes(node):
            visit(child, depth + nested)

    visit(tree, 0)
    return found


def test_packages_import_only_downwards():
    modules = _modules()
    breaches = []
    for module, path in sorted(modules.items()):
        layer = _package(module)
        for imported in sorted(_imports(module, path, top_level_only=False)):
            if imported not in modules:
                continue  # a name imported from a module, not a module
            if _package(imported) in FORBIDDEN[layer]:
                breaches.append(f"{module} ({layer}) imports {imported} ({_package(imported)})")
    assert not breaches, "imports that run back up:\n" + "\n".join(breaches)


def test_every_dataops_import_names_a_module_that_exists():
    """A lazy import inside a function fails only when that function runs: a
    module moved or renamed must leave no import of its old name behind."""
    modules = _modules()
    missing = [
        f"{module} imports {imported}"
        for module, path in sorted(modules.items())
        for imported in sorted(_imports(module, path, top_level_only=False, bases_only=True))
        if imported not in modules
    ]
    assert not missing, "\n".join(missing)


def test_cli_commands_do_not_import_the_command_group_back():
    modules = _modules()
    back = [
        f"{module} imports {imported}"
        for module, path in sorted(modules.items())
        if module.startswith("dataops.cli.") and module != "dataops.cli.main"
        for imported in _imports(module, path, top_level_only=False)
        if imported in {"dataops.cli", "dataops.cli.main"}
    ]
    assert not back, "\n".join(back)


def test_no_import_cycles_at_module_level():
    modules = _modules()
    graph = {
        m: {i for i in _imports(m, p, top_level_only=True) if i in modules and i != m}
        for m, p in modules.items()
    }
    # A package's __init__ importing its own submodules is how packages export; not a cycle.
    for m in graph:
        graph[m] = {i for i in graph[m] if not i.startswith(m + ".")}
    cycles = _cycles(graph)
    assert not cycles, "module-level import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def connect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found
