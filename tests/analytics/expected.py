"""The five TICKIT models' answers, computed from the raw text files in plain
Python: an independent check on the SQL (no database involved)."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path


@dataclass(frozen=True)
class Expected:
    gross_by_event: dict[int, Decimal]
    percentile_by_event: dict[int, int]
    top_events: list[tuple[str, Decimal]]
    top_buyers: list[tuple[int, int]]
    top_buyer_names: list[tuple[str, str, int]]


def _rows(path: Path, delimiter: str):
    with open(path, newline="") as f:
        yield from csv.reader(f, delimiter=delimiter)


def ntile(count: int, buckets: int) -> list[int]:
    """SQL's ntile(buckets) for ``count`` ordered rows: earlier buckets take the remainder."""
    size, extra = divmod(count, buckets)
    out: list[int] = []
    for bucket in range(1, min(buckets, count) + 1):
        out.extend([bucket] * (size + (1 if bucket <= extra else 0)))
    return out


def compute(data_dir: Path) -> Expected:
    gross: dict[int, Decimal] = defaultdict(Decimal)
    quantity: dict[int, int] = defaultdict(int)
    # sales_tab.txt: salesid, listid, sellerid, buyerid, eventid, dateid, qtysold, pricepaid, commission, saletime
    for row in _rows(data_dir / "sales_tab.txt", "\t"):
        gross[int(row[4])] += Decimal(row[7]) if row[7] else Decimal(0)
        quantity[int(row[3])] += int(row[6])
    ranked = sorted(gross.items(), key=lambda kv: (-kv[1], kv[0]))
    percentile = {event: tile for (event, _), tile in zip(ranked, ntile(len(ranked), 1000), strict=True)}

    names = {int(r[0]): r[4] for r in _rows(data_dir / "allevents_pipe.txt", "|")}
    top_events = [(names[event], total) for event, total in ranked if percentile[event] == 1]

    top_buyers = sorted(quantity.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    wanted = {buyer for buyer, _ in top_buyers}
    users = {int(r[0]): (r[2], r[3]) for r in _rows(data_dir / "allusers_pipe.txt", "|") if int(r[0]) in wanted}
    top_buyer_names = [(*users[buyer], qty) for buyer, qty in top_buyers]
    return Expected(dict(gross), percentile, top_events, top_buyers, top_buyer_names)
