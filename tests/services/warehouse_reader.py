"""Looking at the PostgreSQL warehouse as a reader would."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql


@dataclass(frozen=True)
class Relation:
    oid: int
    rows: int
    distinct_rows: int
    checksum: str


def snapshot(conninfo: str, schema: str) -> dict[str, Relation]:
    """Every table and view of ``schema``: identity, row counts and a content checksum."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        names = [
            (r[0], r[1])
            for r in conn.execute(
                "select c.relname, c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                "where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'p')",
                [schema],
            )
        ]
        found = {}
        for name, oid in names:
            relation = sql.Identifier(schema, name)
            rows, distinct, checksum = conn.execute(
                sql.SQL(
                    "select count(*), count(distinct t.*), coalesce(md5(string_agg(t::text, '|' order by t::text)), '') "
                    "from {} t"
                ).format(relation)
            ).fetchone()
            found[name] = Relation(oid, rows, distinct, checksum)
    return found


@dataclass
class ReaderWatch:
    """Reads every model relation in a loop while a run goes on, as a dashboard would.

    Records a violation whenever a reader sees a model missing, with other
    contents than the complete build (``expected``), or a dbt work relation
    (``__dbt_tmp``) in the schema.
    """

    conninfo: str
    schema: str
    expected: dict[str, Relation]
    violations: list[str] = field(default_factory=list)
    reads: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> ReaderWatch:
        self._thread = threading.Thread(target=self._loop, name="reader-watch", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(30)

    def _loop(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self._stop.is_set():
                self._read_once(conn)
                self.reads += 1
                time.sleep(0.05)

    def _read_once(self, conn: psycopg.Connection) -> None:
        present = {
            r[0]
            for r in conn.execute(
                "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = %s",
                [self.schema],
            )
        }
        for name in present:
            if name.endswith("__dbt_tmp"):
                self.violations.append(f"work relation {name} visible to readers")
        for name, complete in self.expected.items():
            try:
                rows, checksum = conn.execute(
                    sql.SQL("select count(*), coalesce(md5(string_agg(t::text, '|' order by t::text)), '') from {} t").format(
                        sql.Identifier(self.schema, name)
                    )
                ).fetchone()
            except psycopg.errors.UndefinedTable:
                self.violations.append(f"{name} missing")
                continue
            if (rows, checksum) != (complete.rows, complete.checksum):
                self.violations.append(f"{name}: {rows} rows (complete build has {complete.rows}) or other contents")
