"""A tiny dbt project that runs on DuckDB and PostgreSQL, and its production build.

    raw_orders (seed) -> stg_orders -------> orders_enriched -> customer_totals
                      -> stg_customers ------------------------^

A test copies the project, changes a model and runs ``dataops ci`` against
the production manifest: changing ``orders_enriched`` must build it and
``customer_totals`` (state:modified+), reading ``stg_orders`` and
``stg_customers`` from production through deferral.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from dataops import paths

PROJECT = "ci_shop"
FILES = {
    "dbt_project.yml": f"""name: {PROJECT}
version: "1.0.0"
config-version: 2
profile: {PROJECT}
models:
  {PROJECT}:
    +materialized: table
""",
    "profiles.yml": f"""{PROJECT}:
  target: "{{{{ env_var('DATAOPS_TARGET', 'duckdb') }}}}"
  outputs:
    duckdb:
      type: duckdb
      path: "{{{{ env_var('DATAOPS_DUCKDB_PATH', 'unused.duckdb') }}}}"
      schema: "{{{{ env_var('DATAOPS_MODELS_SCHEMA') }}}}"
      threads: 2
    postgres:
      type: postgres
      host: "{{{{ env_var('DATAOPS_PG_HOST', '') }}}}"
      port: "{{{{ env_var('DATAOPS_PG_PORT', '5432') | int }}}}"
      user: "{{{{ env_var('DATAOPS_PG_USER', '') }}}}"
      password: "{{{{ env_var('DATAOPS_PG_PASSWORD', '') }}}}"
      dbname: "{{{{ env_var('DATAOPS_PG_DATABASE', '') }}}}"
      schema: "{{{{ env_var('DATAOPS_MODELS_SCHEMA') }}}}"
      threads: 2
""",
    "seeds/raw_orders.csv": "id,customer,amount\n1,ann,10\n2,bob,20\n3,ann,5\n",
    "models/stg_orders.sql": "select\n    id,\n    customer,\n    amount\nfrom {{ ref('raw_orders') }}\n",
    "models/stg_customers.sql": "select distinct customer\nfrom {{ ref('raw_orders') }}\n",
    "models/orders_enriched.sql": (
        "select\n    o.id,\n    o.customer,\n    o.amount * 2 as doubled\nfrom {{ ref('stg_orders') }} as o\n"
    ),
    "models/customer_totals.sql": (
        "select\n    c.customer,\n    sum(e.doubled) as total\nfrom {{ ref('orders_enriched') }} as e\n"
        "inner join {{ ref('stg_customers') }} as c\n    on e.customer = c.customer\ngroup by c.customer\n"
    ),
    "models/_models.yml": """version: 2
models:
  - name: orders_enriched
    columns:
      - name: id
        data_tests: [not_null]
  - name: customer_totals
    columns:
      - name: customer
        data_tests: [unique]
""",
}
UPSTREAM = ("stg_orders", "stg_customers")
CHANGED = "orders_enriched"
DOWNSTREAM = "customer_totals"


def write_project(path: Path) -> Path:
    for name, text in FILES.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    shutil.copyfile(paths.repo_root() / "analytics" / "dbt" / ".sqlfluff", path / ".sqlfluff")
    return path


def copy_project(source: Path, dest: Path, **changes: str) -> Path:
    """A copy of the project (without dbt's target/), with models/<name>.sql replaced by ``changes``."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("target", "logs"))
    for model, sql in changes.items():
        (dest / "models" / f"{model}.sql").write_text(sql)
    return dest


def prod_build(settings, project_dir: Path, target: Path) -> Path:
    """Production: the whole project built into schema analytics; its manifest's folder."""
    from dataops.dbt.project import DbtProject
    from dataops.dbt.runner import DbtInvocation, DbtRunner

    project = DbtProject.from_settings(settings.model_copy(update={"models_schema": "analytics"}), project_dir)
    DbtRunner(project).invoke(DbtInvocation(command="build", target_path=target)).raise_for_status()
    return target
