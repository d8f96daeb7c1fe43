"""The one place that decides how a dbt node becomes an Airflow task id.

Airflow task ids allow letters, digits, ``_``, ``-`` and ``.``, but a dot
separates task-group prefixes, so a model named
``top_sales_99.9_percentile_model`` becomes ``top_sales_99_9_percentile_model``.
Names that collide after that (``a.b`` and ``a_b``) get a short hash of their
unique_id, so ids are stable, and so do names that would take a task id the
factory gives its own tasks (a model named ``dbt_done``). The reverse mapping is
not parsed back from the id: every task carries its node's ``unique_id``.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable

from dataops.dbt.graph import DbtNode

PRODUCER_TASK_ID = "dbt_build"  # runs dbt once for the DAG run
SUMMARY_TASK_ID = "dbt_done"  # the run's verdict
# Every task id the factory adds besides one per node; no node may take one.
RESERVED_TASK_IDS = frozenset({PRODUCER_TASK_ID, SUMMARY_TASK_ID})
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_MAX_LEN = 200


def base_task_id(node: DbtNode) -> str:
    if node.resource_type == "source":
        raw = "source__" + node.source_name.replace(".", "__")
    else:
        raw = node.name
    return _UNSAFE.sub("_", raw).strip("_")[:_MAX_LEN] or "node"


def task_ids_for(nodes: Iterable[DbtNode]) -> dict[str, str]:
    """unique_id -> task id, unique within the DAG and stable across parses."""
    nodes = list(nodes)
    bases = {n.unique_id: base_task_id(n) for n in nodes}
    taken = Counter(bases.values())
    taken.update(RESERVED_TASK_IDS)
    result = {}
    for uid, base in bases.items():
        if taken[base] > 1:
            base = f"{base}__{hashlib.sha1(uid.encode()).hexdigest()[:6]}"
        result[uid] = base
    return result
