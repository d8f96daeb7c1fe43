"""What a publish, a rollback and a carry-over send to Amazon Redshift, statement by statement,
checked against Redshift's documented rules (no Redshift can be reached from here):

- every statement parses with sqlfluff's Redshift dialect;
- nothing that cannot run inside a transaction block (VACUUM, CREATE/DROP DATABASE, CREATE EXTERNAL
  TABLE, ALTER TABLE APPEND ...: https://docs.aws.amazon.com/redshift/latest/dg/r_BEGIN.html and each
  command's page) and no TRUNCATE, which commits the transaction it runs in;
- the views are late-binding (``WITH NO SCHEMA BINDING``, every name schema-qualified:
  https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_VIEW.html), so the tables under them can be
  dropped and swapped without dropping the views;
- every change readers can see is between one BEGIN and its COMMIT; old places are dropped after it.
"""

from __future__ import annotations

import re

import pytest

from dataops.config import load_settings
from dataops.wap.dialects.redshift import DIALECT
from dataops.wap.place import Publishable, Relation, RunPlace, slot_schema
from dataops.wap.publisher import Publisher

NOT_IN_TRANSACTION = re.compile(
    r"^\s*(vacuum|create\s+database|drop\s+database|alter\s+database|create\s+external\s+(table|schema)|"
    r"drop\s+external|alter\s+table\s+\S+\s+append|create\s+library|drop\s+library|truncate)\b",
    re.I,
)
PLACE = RunPlace("shop", "manual__2026-01-02", "2026-01-02T00:00:00", "3f9a1c07e2b4", "analytics",
                 slot_schema("analytics", "shop", 1))
OLD_PLACE = slot_schema("analytics", "shop", 2)
ITEMS = [
    Publishable("model.shop.pair_a", "table", Relation(PLACE.schema, "pair_a"), Relation("analytics", "pair_a")),
    Publishable("model.shop.top_99.9", "view", Relation(PLACE.schema, "top_99.9"), Relation("analytics", "top_99.9")),
    Publishable("model.shop.history", "incremental", Relation(PLACE.schema + "_marts", "history"),
                Relation("analytics_marts", "history")),
]


class Recorder:
    """A Redshift session that records what it is sent and answers the catalog queries."""

    def __init__(self, current: list[tuple] = ()):
        self.sent: list[str] = []
        self.current = list(current)

    def execute(self, sql: str) -> None:
        self.sent.append(sql)

    def rows(self, sql: str) -> list[tuple]:
        self.sent.append(sql)
        if "pg_catalog.pg_class" in sql:  # every built relation exists; production pair_a is an old table
            return [(i.built.schema, i.built.name, "table") for i in ITEMS] + [("analytics", "pair_a", "table")]
        if "pg_catalog.pg_namespace" in sql:
            return [(PLACE.schema,), (PLACE.schema + "_marts",), (OLD_PLACE,)]
        if sql.startswith("select version, action"):
            return self.current
        if sql.startswith("select schema_name, run_id, run_after"):  # the run holds its place
            return [(PLACE.schema, PLACE.run_id, PLACE.run_after)]
        return []

    def close(self) -> None:
        pass


def _publisher(recorder: Recorder) -> Publisher:
    return Publisher(load_settings(target="duckdb"), keep=3, dialect=DIALECT, connect=lambda: recorder)


def test_the_sql_check_rejects_what_redshift_would():
    assert not _parses("create view a.b as select * from c.d with schema binding please")
    assert NOT_IN_TRANSACTION.match("alter table a.b append from a.c")


def _parses(sql: str) -> bool:
    from sqlfluff.core import Linter

    tree = Linter(dialect="redshift").parse_string(sql).tree
    return tree is not None and not list(tree.recursive_crawl("unparsable"))


@pytest.fixture(scope="module")
def published() -> list[str]:
    recorder = Recorder()
    _publisher(recorder).publish(PLACE, ITEMS)
    return recorder.sent


def test_the_publish_is_one_transaction_of_late_binding_views(published):
    begin, commit = published.index("begin"), published.index("commit")
    inside = published[begin + 1:commit]
    assert inside[0] == 'lock "dataops_wap"."versions"'
    views = [s for s in inside if s.startswith("create view")]
    assert views == [
        f'create view "analytics"."pair_a" as select * from "{PLACE.schema}"."pair_a" with no schema binding',
        f'create view "analytics"."top_99.9" as select * from "{PLACE.schema}"."top_99.9" with no schema binding',
        f'create view "analytics_marts"."history" as select * from "{PLACE.schema}_marts"."history" '
        "with no schema binding",
    ]
    # The old production table goes in the same transaction as its view arrives.
    assert inside.index('drop table if exists "analytics"."pair_a"') < inside.index(views[0])
    assert any(s.startswith('insert into "dataops_wap"."versions" values') for s in inside)
    assert any(s.startswith('insert into "dataops_wap"."version_relations" values') for s in inside)
    # Cleanup after the commit: the abandoned place, never the run's own.
    after = published[commit + 1:]
    assert f'drop schema if exists "{OLD_PLACE}" cascade' in after
    assert not any(PLACE.schema in s and s.startswith("drop schema") for s in after)


def test_every_statement_is_one_redshift_accepts_in_a_transaction(published):
    source, target = Relation(OLD_PLACE, "history"), ITEMS[2].built
    carried = DIALECT.copy_table(source, target)
    assert carried == [
        f'create table "{target.schema}"."history" (like "{source.schema}"."history")',
        f'insert into "{target.schema}"."history" select * from "{source.schema}"."history"',
    ]
    for statement in [*published, *carried]:
        assert not NOT_IN_TRANSACTION.match(statement), statement
        assert _parses(statement), f"not valid Redshift SQL (sqlfluff): {statement[:120]}"


def test_a_rollback_repoints_the_views_in_one_transaction():
    versions = [(2, "publish", "run2", "2026-01-02", "v2", "t2"), (1, "publish", "run1", "2026-01-01", "v1", "t1")]
    recorder = Recorder(versions)
    recorder.rows = _with_relations(recorder.rows)
    result = _publisher(recorder).rollback("shop")
    assert (result.version.version, result.version.action) == (3, "rollback to 1")
    sent = recorder.sent
    begin, commit = sent.index("begin"), sent.index("commit")
    assert [s for s in sent[begin:commit] if s.startswith("create view")] == [
        f'create view "analytics"."pair_a" as select * from "{PLACE.schema}"."pair_a" with no schema binding'
    ]
    assert not any(s.startswith("drop schema") for s in sent)


def _with_relations(rows):
    def answer(sql: str) -> list[tuple]:
        if sql.startswith("select version, unique_id"):
            return [(1, "model.shop.pair_a", "table", PLACE.schema, "pair_a", "analytics", "pair_a")]
        return rows(sql)

    return answer
