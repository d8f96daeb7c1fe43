"""Publishing and rolling back on DuckDB and PostgreSQL, for real, without dbt: run places made by
SQL, so many publishes fit in a second. A reader queries every production model in a loop all the
while and must never see an error, a missing relation or a mix of two versions."""

from __future__ import annotations

import threading
import time

import pytest
from wap_project import PIPELINE, make_place

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
    publisher.publish(*make_place(wh, 1))
    before = wh.production("pair_a")

    stop, seen, problems = threading.Event(), [], []
    reader = threading.Thread(target=_reader, args=(wh, stop, seen, problems))
    reader.start()
    try:
        for n in range(2, PUBLISHES + 2):
            if n % 3 == 0:
                publisher.rollback(PIPELINE)  # back to the version before, itself one step
            else:
                publisher.publish(*make_place(wh, n))
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


def test_old_versions_and_abandoned_places_are_dropped_and_newer_runs_kept(warehouse):
    wh = warehouse
    publisher = Publisher(wh.settings, keep=2)
    made = [make_place(wh, n) for n in range(1, 6)]
    for place, items in made:  # every run registers its place before it builds
        publisher.prepare(place, items)
    # Run 3 was abandoned, run 5 is still building; runs 1, 2 and 4 publish.
    publisher.publish(*made[0])
    publisher.publish(*made[1])
    published = publisher.publish(*made[3])
    # Kept: versions 2 and 3 (keep=2: runs 2 and 4) and run 5 (newer); dropped: run 1 and run 3.
    assert sorted(published.dropped) == sorted([made[0][0].schema, made[2][0].schema])
    listed = [v.run_id for v in publisher.versions(PIPELINE)]
    assert listed == ["run4", "run2"]
    remaining = {row[0] for row in wh.sql(publisher.dialect.schemas_sql(made[0][0].pipeline_prefix))}
    assert remaining == {made[1][0].schema, made[3][0].schema, made[4][0].schema}
