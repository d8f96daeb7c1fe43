"""Synthetic dbt projects of any size, on DuckDB or PostgreSQL, for tests and the benchmark.

A project with ``n_models`` models in layers (staging views over sources and
seeds, intermediate tables, marts) where each model reads one to three
models of earlier layers, mostly the layer just before: the fan-in of a real
project. It has seeds, sources with tests (created by an ``on-run-start``
hook, so the project needs nothing loaded beforehand), views and tables in
several folders, a few tagged models, and generic tests on about a third of
the models. The layout is a pure function of ``n_models`` and ``seed``. Its
own profile's default target is DuckDB; ``--target postgres`` builds it on
the ``DATAOPS_PG_*`` database.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

_ROWS = 200
# The source tables' rows, 1 to _ROWS, in either warehouse's words.
_SERIES = (
    "{% if target.type == 'duckdb' %}range(1, " + str(_ROWS + 1) + ") as s(g)"
    "{% else %}generate_series(1, " + str(_ROWS) + ") as s(g){% endif %}"
)


@dataclass(frozen=True)
class SyntheticProject:
    path: Path
    n_models: int
    layers: list[list[str]]


def generate(path: Path, n_models: int, *, seed: int = 7, name: str = "synthetic") -> SyntheticProject:
    if n_models < 3:
        raise ValueError("a synthetic project needs at least 3 models")
    rng = random.Random(seed)
    path = Path(path)
    (path / "seeds").mkdir(parents=True, exist_ok=True)
    layers = _layer_sizes(n_models)
    names: list[list[str]] = []
    folders = {0: "staging", len(layers) - 1: "marts"}
    counter = 0
    for depth, size in enumerate(layers):
        folder = folders.get(depth, "intermediate")
        layer_names = []
        for _ in range(size):
            layer_names.append(f"{folder[:3]}_{depth}_{counter:04d}")
            counter += 1
        names.append(layer_names)

    _write(path / "dbt_project.yml", _project_yml(name))
    _write(path / "profiles.yml", _PROFILES)
    _write(path / "seeds" / "seed_customers.csv", _seed_csv(rng, "customer"))
    _write(path / "seeds" / "seed_products.csv", _seed_csv(rng, "product"))
    _write(path / "models" / "staging" / "_sources.yml", _SOURCES_YML)

    tests_yml: dict[str, list[str]] = {}
    for depth, layer_names in enumerate(names):
        folder = folders.get(depth, "intermediate")
        for i, model in enumerate(layer_names):
            if depth == 0:
                sql = _staging_sql(i)
            else:
                parents = _pick_parents(rng, names, depth)
                sql = _join_sql(parents)
            tags = ["daily"] if i % 5 == 0 else []
            config = f"{{{{ config(tags={tags!r}) }}}}\n" if tags else ""
            _write(path / "models" / folder / f"{model}.sql", config + sql)
            if i % 3 == 0:
                tests_yml.setdefault(folder, []).append(model)
    for folder, models in tests_yml.items():
        _write(path / "models" / folder / f"_{folder}.yml", _model_tests_yml(models))
    return SyntheticProject(path, n_models, names)


def _layer_sizes(n: int) -> list[int]:
    depth = max(3, min(8, round(math.log2(n)) - 1))
    # Wider at the bottom, narrower at the top, as in most projects.
    weights = [depth - i * 0.5 for i in range(depth)]
    total = sum(weights)
    sizes = [max(1, int(n * w / total)) for w in weights]
    sizes[0] += n - sum(sizes)
    return sizes


def _pick_parents(rng: random.Random, names: list[list[str]], depth: int) -> list[str]:
    fan_in = rng.choice((1, 2, 2, 3))
    parents = {rng.choice(names[depth - 1])}
    while len(parents) < fan_in:
        layer = depth - 1 if rng.random() < 0.7 else rng.randrange(0, depth)
        parents.add(rng.choice(names[layer]))
    return sorted(parents)


def _staging_sql(i: int) -> str:
    if i % 4 == 0:
        return "select id, amount as value from {{ ref('seed_customers') }}\n"
    if i % 4 == 1:
        return "select id, amount as value from {{ ref('seed_products') }}\n"
    table = "orders" if i % 2 == 0 else "payments"
    return f"select id, amount as value from {{{{ source('raw', '{table}') }}}}\n"


def _join_sql(parents: list[str]) -> str:
    first, *rest = parents
    lines = ["select p0.id, p0.value"]
    lines[0] += "".join(f" + p{k}.value" for k in range(1, len(parents))) + " as value"
    lines.append(f"from {{{{ ref('{first}') }}}} as p0")
    for k, parent in enumerate(rest, start=1):
        lines.append(f"join {{{{ ref('{parent}') }}}} as p{k} on p{k}.id = p0.id")
    return "\n".join(lines) + "\n"


def _seed_csv(rng: random.Random, kind: str) -> str:
    rows = ["id,name,amount"] + [f"{i},{kind}_{i},{rng.randint(1, 500)}" for i in range(1, _ROWS + 1)]
    return "\n".join(rows) + "\n"


def _model_tests_yml(models: list[str]) -> str:
    lines = ["version: 2", "", "models:"]
    for model in models:
        lines += [f"  - name: {model}", "    columns:", "      - name: id", "        data_tests: [not_null, unique]"]
    return "\n".join(lines) + "\n"


def _project_yml(name: str) -> str:
    return f"""name: {name}
version: "1.0.0"
config-version: 2
profile: synthetic

model-paths: ["models"]
seed-paths: ["seeds"]

on-run-start:
  - "create schema if not exists raw"
  - "create table if not exists raw.orders as select g as id, (g * 7) % 500 as amount from {_SERIES}"
  - "create table if not exists raw.payments as select g as id, (g * 3) % 500 as amount from {_SERIES}"

models:
  {name}:
    staging:
      +materialized: view
    intermediate:
      +materialized: table
    marts:
      +materialized: table
"""


_PROFILES = """synthetic:
  target: duckdb
  outputs:
    duckdb:
      type: duckdb
      path: "{{ env_var('DATAOPS_DUCKDB_PATH') }}"
      schema: "{{ env_var('DATAOPS_MODELS_SCHEMA', 'analytics') }}"
      threads: "{{ env_var('DATAOPS_DBT_THREADS', '4') | int }}"
    postgres:
      type: postgres
      host: "{{ env_var('DATAOPS_PG_HOST', '127.0.0.1') }}"
      port: "{{ env_var('DATAOPS_PG_PORT', '5432') | int }}"
      user: "{{ env_var('DATAOPS_PG_USER', 'postgres') }}"
      password: "{{ env_var('DATAOPS_PG_PASSWORD', '') }}"
      dbname: "{{ env_var('DATAOPS_PG_DATABASE', 'dataops') }}"
      schema: "{{ env_var('DATAOPS_MODELS_SCHEMA', 'analytics') }}"
      threads: "{{ env_var('DATAOPS_DBT_THREADS', '4') | int }}"
"""

_SOURCES_YML = """version: 2

sources:
  - name: raw
    schema: raw
    tables:
      - name: orders
        columns:
          - name: id
            data_tests: [unique, not_null]
      - name: payments
        columns:
          - name: id
            data_tests: [not_null]
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
