"""Reading model tasks' logs for dbt's time, which their triggers write last.

The triggerer writes a trigger's log on its own time, and Airflow 3.3's can drop
a trigger's last records (apache/airflow#66158): the logs are read again until
every one has the line, or, once one has it, a few seconds more have passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable


def dbt_lines_with_time(
    read_log: Callable[[str], str], task_ids: Iterable[str], first_within_s: float = 30, rest_within_s: float = 5
) -> dict[str, list[str]]:
    """task id -> the lines its log starts with "dbt", for the logs that have dbt's execution time."""
    pending, timed = set(task_ids), {}
    deadline = time.monotonic() + first_within_s
    while pending and time.monotonic() < deadline:
        for task_id in sorted(pending):
            ours = [line for line in read_log(task_id).splitlines() if line.startswith("dbt")]
            if any("execution time" in line for line in ours):
                timed[task_id] = ours
                pending.discard(task_id)
                deadline = min(deadline, time.monotonic() + rest_within_s) if len(timed) == 1 else deadline
        if pending:
            time.sleep(0.5)
    return timed
