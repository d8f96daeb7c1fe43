"""Write-audit-publish with dbt, for real, with a three-model project (wap_project.py): one story
of runs, each step checking what production shows. It runs on DuckDB: dbt's side is the same on
every warehouse (it builds into the run's schema), and what differs, the publish SQL, is tested on
PostgreSQL as well in test_atomic.py without dbt (each dbt build costs seconds of CPU)."""

from __future__ import annotations

import pytest
from wap_project import BAD_PAIR_A, MODELS, PIPELINE, build, write_project

from dataops.dbt.runner import describe_failure
from dataops.wap.place import PublishError, publishables


def test_only_tested_data_is_published_and_a_version_comes_back_exactly(duckdb_warehouse, tmp_path):
    wh = duckdb_warehouse
    project = write_project(tmp_path / "shop")
    publisher = wh.publisher(keep=3)

    # Run 1 publishes: production is views over the run's tables.
    wh.load_batch(1)
    run1 = wh.place("run1", "2026-01-01T00:00:00")
    result, items = build(wh, project, run1)
    assert result.succeeded, describe_failure(result)
    publisher.publish(run1, items)
    v1 = {m: wh.production(m) for m in MODELS}
    assert len(v1["pair_a"]) == 20 and v1["history"] == [(1, 20)]
    assert _snapshot_rows(wh) == (20, 20)  # (rows, current rows)

    # Run 2 breaks pair_a: its error test fails, production keeps run 1's data, the error names both.
    wh.load_batch(60)
    write_project(project, **{"models/pair_a.sql": BAD_PAIR_A})
    run2 = wh.place("run2", "2026-01-02T00:00:00")
    result, items = build(wh, project, run2)
    assert not result.succeeded
    message = describe_failure(result)
    assert "not_null_pair_a_value" in message and "pair_a" in message
    assert {m: wh.production(m) for m in MODELS} == v1

    # The fix, rebuilt into the same run's place (the cleared task's path), publishes; a warn-severity
    # test warns (values over 1000) and does not stop it.
    write_project(project)
    result, items = build(wh, project, run2, select=("pair_a+",))
    assert result.succeeded, describe_failure(result)
    assert "warn" in {r.status for r in result.results.nodes if r.resource_type == "test"}
    publisher.publish(run2, items)
    v2 = {m: wh.production(m) for m in MODELS}
    assert [row[1] for row in v2["pair_a"]] == [60 * i for i in range(1, 21)]
    assert v2["history"] == [(1, 20), (60, 20)]  # carried into run 2's place, then appended to
    assert _snapshot_rows(wh) == (40, 20)  # run 1's rows, closed, and run 2's: the snapshot's history

    # Run 3 is killed between its build and its publish: production is unchanged, and an older
    # run's place cannot publish over the newer version.
    run3 = wh.place("run3", "2026-01-03T00:00:00")
    publisher.prepare(run3, publishables(wh.graph, wh.graph.nodes, run3))
    wh.sql(f"create table {run3.schema}.pair_a as select * from raw.numbers")
    assert {m: wh.production(m) for m in MODELS} == v2
    with pytest.raises(PublishError, match="started after it"):
        publisher.publish(run1, items)

    # Rollback: every model exactly as run 1 left it, history included.
    restored = publisher.rollback(PIPELINE)
    assert restored.version.action == "rollback to 1"
    assert {m: wh.production(m) for m in MODELS} == v1
    assert _snapshot_rows(wh) == (20, 20)
    listed = publisher.versions(PIPELINE)
    assert [(v.version, v.action, v.run_id) for v in listed] == [
        (3, "rollback to 1", "run1"), (2, "publish", "run2"), (1, "publish", "run1")
    ]

    # The next run's incremental history goes on from the restored version: run 2's batch is not in
    # it. (Its publish drops run 3's abandoned place: test_atomic.py.)
    wh.load_batch(4)
    run4 = wh.place("run4", "2026-01-04T00:00:00")
    notes = publisher.prepare(run4, publishables(wh.graph, wh.graph.nodes, run4))
    assert any("history" in note and run1.schema in note for note in notes)
    assert wh.sql(f"select * from {run4.schema}.history order by batch") == [(1, 20)]


def _snapshot_rows(wh) -> tuple[int, int]:
    (rows, current), = wh.sql(
        f"select count(*), count(*) filter (where dbt_valid_to is null) from {wh.settings.models_schema}.pair_a_snapshot"
    )
    return rows, current
