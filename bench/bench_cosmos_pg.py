"""Benchmark: ours and astronomer-cosmos's local mode on PostgreSQL, which takes parallel writers.

    .venv-bench/bin/python bench/bench_cosmos_pg.py [N]   # N models, 200 by default

The synthetic project of N models on a PostgreSQL database of its own (the
server of the DATAOPS_PG_* settings), through one embedded Airflow of its
own: our DAG (one dbt with four threads; the direct publish, as cosmos
builds straight into its schema) and cosmos's local mode (one dbt process
per task, four at once: Airflow's parallelism). One run of each, ours after
a warm-up run. ``run()`` returns ``airflow_run_s_<N>_pg``,
``cosmos_local_s_<N>_pg``, ``cosmos_local_over_ours_<N>_pg`` and cosmos's
peak PSS, or ``errors_postgres`` with the reason.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
try:
    import dataops  # noqa: F401
except ImportError:  # a checkout without the package installed
    sys.path.insert(0, str(HERE.parent / "src"))

from pg_database import bench_database  # noqa: E402
from runs import airflow_run  # noqa: E402
from workspace import Workspace  # noqa: E402

from dataops.config import load_settings  # noqa: E402
from dataops.errors import DataOpsError  # noqa: E402


def run(n: int = 200) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="dataops-bench-pg-") as tmp, \
            bench_database(f"cosmos_local_over_ours_{n}_pg") as pg:
        if pg is None:
            return {"errors_postgres": [f"N={n} on PostgreSQL: the server of the DATAOPS_PG_* settings is unreachable"]}
        root = Path(tmp)
        (root / "dags").mkdir()
        ws = Workspace(root, load_settings(target="duckdb", state_dir=root / "state"), pg_env=pg.dbt_env())
        ours_id, cosmos_id = ws.add_synthetic_postgres(n)
        try:
            ws.start_airflow()
            airflow_run(ws, ours_id)  # the schemas, and dbt's partial parse of this target
            ours = airflow_run(ws, ours_id)
            cosmos = airflow_run(ws, cosmos_id, timeout_s=7200)
        except (RuntimeError, DataOpsError) as exc:
            return {"errors_postgres": [f"N={n} on PostgreSQL: {exc}"]}
        finally:
            ws.stop()
    return {
        f"airflow_run_s_{n}_pg": round(ours.seconds, 2),
        f"cosmos_local_s_{n}_pg": round(cosmos.seconds, 2),
        f"cosmos_local_over_ours_{n}_pg": round(cosmos.seconds / ours.seconds, 2),
        f"peak_pss_mb_cosmos_local_{n}_pg": round(cosmos.peak_pss_mb, 1),
    }


if __name__ == "__main__":
    for key, value in run(int(sys.argv[1]) if len(sys.argv) > 1 else 200).items():
        print(f"{key:<34} {value}")
