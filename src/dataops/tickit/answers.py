"""How many rows each of the five TICKIT models must hold, computed from the
raw text files in plain Python (no warehouse, no SQL): what the smoke test
(``dataops smoke``) compares a freshly built warehouse against."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from dataops.tickit.schema import TABLES

# The top buyers model keeps this many buyers; the percentile model has this many buckets.
TOP_BUYERS = 10
PERCENTILES = 1000


def _rows(path: Path, delimiter: str):
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.reader(f, delimiter=delimiter, quoting=csv.QUOTE_NONE):
            if row:  # blank lines are skipped, as every loader skips them
                yield row


def _file(data_dir: Path, table: str) -> tuple[Path, str]:
    spec = next(t for t in TABLES if t.name == table)
    return Path(data_dir) / spec.file_name, spec.delimiter


def expected_row_counts(data_dir: Path) -> dict[str, int]:
    """Model name -> the number of rows it must hold for the files in ``data_dir``."""
    path, delimiter = _file(data_dir, "sales")
    gross: dict[int, Decimal] = defaultdict(Decimal)
    quantity: dict[int, int] = defaultdict(int)
    # sales: salesid, listid, sellerid, buyerid, eventid, dateid, qtysold, pricepaid, ...
    for row in _rows(path, delimiter):
        gross[int(row[4])] += Decimal(row[7]) if row[7] else Decimal(0)
        quantity[int(row[3])] += int(row[6])
    # ntile(1000) over n events (ranked by gross sales, then eventid): the first
    # bucket holds n // 1000 of them, one more if there is a remainder.
    size, extra = divmod(len(gross), PERCENTILES)
    ranked = sorted(gross.items(), key=lambda kv: (-kv[1], kv[0]))[: size + (1 if extra else 0)]
    top_buyers = [b for b, _ in sorted(quantity.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_BUYERS]]
    # The two last models join event and users: a missing row drops the line.
    path, delimiter = _file(data_dir, "event")
    events = {int(row[0]) for row in _rows(path, delimiter)}
    path, delimiter = _file(data_dir, "users")
    users = {int(row[0]) for row in _rows(path, delimiter)}
    return {
        "all_gross_sales_model": len(gross),
        "percentile_sales_model": len(gross),
        "top_sales_99.9_percentile_model": sum(event in events for event, _ in ranked),
        "top_buyers_by_quantity_model": len(top_buyers),
        "top_buyer_data_model": sum(buyer in users for buyer in top_buyers),
    }
