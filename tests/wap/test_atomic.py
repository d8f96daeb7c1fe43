"""Publishing and rolling back on DuckDB and PostgreSQL, for real, without dbt: run places made by
SQL, so many publishes fit in a second. A reader queries every production model in a loop all the
while and must never see an error, a missing relation or a mix of two versions."""

from __future__ import annotations

import threading
import time

import pytest
from wap_project import PIPELINE, make_place

from dataops.wap.place import PublishError
from dataops.wap.publisher import Publisher

PUBLISHES = 30
KEEP = 40


def _reader(wh, stop: threading.Event, seen: list, problems: list) -> None:
    """Both models in one statement, as a dashboard's query would read them."""
    schema = wh.settings.models_schema
    query = (f"select (select sum(value) from {schema}.pair_a), (select total from {schema}.pair_b), "
             f"(select version from {schema}.pair_b)")
    session = wh.settings.warehouse().publish_sql().connect(wh.settings)
    try:
        while not stop.is_set():
            try:
                a, b, version = session.rows(query)[0]
            except Exception as exc:  # noqa: BLE001  (any error at all is what the test looks for)
                problems.append(repr(exc))
                continue
            seen.append(version)
            if a != b:
                problems.append(f"a mix of versions: pair_a sums to {a}, pair_b says {b}")
    finally:
        session.close()


def test_readers_see_one_whole_version_through_many_publishes_and_rollbacks(warehouse):
    wh = warehouse
    publisher = Publisher(wh.settings, keep=KEEP)
    publisher.publish(*make_place(wh, 1, KEEP))
    before = wh.production("pair_a")

    stop, seen, problems = threading.Event(), [], []
    reader = threading.Thread(target=_reader, args=(wh, stop, seen, problems))
    reader.start()
    try:
        for n in range(2, PUBLISHES + 2):
            if n % 3 == 0:
                publisher.rollback(PIPELINE)  # back to the version before, itself one step
            else:
                publisher.publish(*make_place(wh, n, KEEP))
            time.sleep(0.005)
    finally:
        stop.set()
        reader.join(30)
    assert not problems, problems[:5]
    assert len(set(seen)) > 1, "the reader never saw a publish"

    # Rollback restores a version row by row.
    target = publisher.versions(PIPELINE)[-1]
    publisher.rollback(PIPELINE, target.version)
    assert wh.production("pair_a") == before


def test_publish_is_all_or_nothing_when_a_built_relation_is_missing(warehouse):
    wh = warehouse
    publisher = Publisher(wh.settings, keep=2)
    place1, items1 = make_place(wh, 1)
    publisher.publish(place1, items1)
    place2, items2 = make_place(wh, 2)
    wh.sql(f"drop table {place2.schema}.pair_b")
    with pytest.raises(Exception, match="built relation"):
        publisher.publish(place2, items2)
    assert wh.production("pair_b") == [(55, 1)]
    assert [v.version for v in publisher.versions(PIPELINE)] == [1]


def test_old_versions_and_abandoned_places_are_dropped_and_places_are_reused(warehouse):
    wh = warehouse
    publisher = Publisher(wh.settings, keep=2)  # 2 kept versions, 4 places
    run1 = make_place(wh, 1, keep=2)
    publisher.publish(*run1)
    run2 = make_place(wh, 2, keep=2)
    publisher.publish(*run2)
    run3 = make_place(wh, 3, keep=2)  # killed between its build and its publish
    run4 = make_place(wh, 4, keep=2)
    assert len({p.schema for p, _ in (run1, run2, run3, run4)}) == publisher.slots == 4
    published = publisher.publish(*run4)
    # Kept: versions 2 and 3 (runs 2 and 4). Dropped: run 1's place (its version is no longer kept)
    # and run 3's, abandoned.
    assert sorted(published.dropped) == sorted([run1[0].schema, run3[0].schema])
    assert [v.run_id for v in publisher.versions(PIPELINE)] == ["run4", "run2"]
    remaining = {row[0] for row in wh.sql(publisher.dialect.schemas_sql(run1[0].pipeline_prefix))}
    assert remaining == {run2[0].schema, run4[0].schema}
    assert publisher.find(run3[0]) is None

    # Later runs reuse the free places; with none free, a run takes the oldest older run's (abandoned) place.
    run5, run6 = make_place(wh, 5, keep=2), make_place(wh, 6, keep=2)
    assert {run5[0].schema, run6[0].schema} == {run1[0].schema, run3[0].schema}
    run7 = make_place(wh, 7, keep=2)
    assert run7[0].schema == run5[0].schema
    # A run whose place was given away cannot publish, and says why.
    with pytest.raises(PublishError, match="was given to run run7"):
        publisher.publish(*run5)
    assert [v.run_id for v in publisher.versions(PIPELINE)] == ["run4", "run2"]


def test_views_of_your_own_over_production_keep_working_and_columns_may_change(warehouse):
    wh = warehouse
    models = wh.settings.models_schema
    publisher = Publisher(wh.settings, keep=3)
    publisher.publish(*make_place(wh, 1))
    wh.sql("create schema if not exists reports")
    wh.sql(f"create view reports.total as select total from {models}.pair_b")
    publisher.publish(*make_place(wh, 2))
    assert wh.sql("select total from reports.total") == [(110,)]  # repointed in place: the view still reads it

    # pair_a's columns change order (PostgreSQL cannot replace such a view in place): dropped and created.
    place3, items3 = make_place(wh, 3)
    wh.sql(f"create table {place3.schema}.pair_a_new as select id, 'x' as note, value from {place3.schema}.pair_a")
    wh.sql(f"drop table {place3.schema}.pair_a")
    wh.sql(f"alter table {place3.schema}.pair_a_new rename to pair_a")
    publisher.publish(place3, items3)
    assert wh.sql(f"select id, note, value from {models}.pair_a order by id")[:2] == [(1, "x", 3), (2, "x", 6)]
    assert wh.sql("select total from reports.total") == [(165,)]
