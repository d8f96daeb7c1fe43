"""The generator: row counts, referential integrity, plausible values, skew,
determinism and atomic output."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from dataops.tickit.files import table_files
from dataops.tickit.generator import generate
from dataops.tickit.loaders.duckdb import load_into
from dataops.tickit.manifest import MANIFEST_NAME, is_complete, read_manifest
from dataops.tickit.schema import SF1_ROWS, TABLES
from dataops.tickit.synth import scaled_row_counts


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n")


def _digests(folder: Path) -> dict[str, str]:
    return {t.file_name: hashlib.sha256((folder / t.file_name).read_bytes()).hexdigest() for t in TABLES}


@pytest.fixture(scope="module")
def sf1(sf1_dir) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    load_into(con, "tickit", table_files(sf1_dir))
    con.execute("use memory.tickit")
    yield con
    con.close()


def _one(con: duckdb.DuckDBPyConnection, query: str):
    return con.execute(query).fetchone()[0]


def test_sf1_has_the_real_row_counts(sf1_dir, sf1):
    assert read_manifest(sf1_dir).rows == SF1_ROWS
    assert {t.name: _lines(sf1_dir / t.file_name) for t in TABLES} == SF1_ROWS
    assert {t.name: _one(sf1, f'select count(*) from "{t.name}"') for t in TABLES} == SF1_ROWS


def test_scaled_row_counts():
    assert scaled_row_counts(0.02) == {
        "users": 1000, "venue": 4, "category": 11, "date": 365, "event": 176, "listing": 3850, "sales": 3449,
    }
    ten = scaled_row_counts(10)
    assert ten["sales"] == 1_724_560 and ten["users"] == 499_900 and ten["date"] == 365 and ten["category"] == 11
    assert scaled_row_counts(1000)["venue"] == 32_767  # venueid is a smallint
    assert min(scaled_row_counts(0.0001).values()) >= 1


def test_small_scale_files_have_the_scaled_counts(small_dir):
    manifest = read_manifest(small_dir)
    assert manifest.rows == scaled_row_counts(0.02)
    assert {t.name: _lines(small_dir / t.file_name) for t in TABLES} == manifest.rows


@pytest.mark.parametrize(
    "orphans",
    [
        "select count(*) from sales s left join listing l using (listid) where l.listid is null",
        "select count(*) from sales s join listing l using (listid) where s.sellerid <> l.sellerid or s.eventid <> l.eventid",
        "select count(*) from sales s left join users u on u.userid = s.buyerid where u.userid is null",
        "select count(*) from sales s left join users u on u.userid = s.sellerid where u.userid is null",
        "select count(*) from sales s left join date d using (dateid) where d.dateid is null",
        "select count(*) from listing l left join event e using (eventid) where e.eventid is null",
        "select count(*) from listing l left join users u on u.userid = l.sellerid where u.userid is null",
        "select count(*) from listing l left join date d using (dateid) where d.dateid is null",
        "select count(*) from event e left join venue v using (venueid) where v.venueid is null",
        "select count(*) from event e left join category c using (catid) where c.catid is null",
        "select count(*) from event e left join date d using (dateid) where d.dateid is null",
        "select count(*) from sales where buyerid = sellerid",
    ],
)
def test_referential_integrity(sf1, orphans):
    assert _one(sf1, orphans) == 0


@pytest.mark.parametrize(
    ("table", "key"),
    [("users", "userid"), ("venue", "venueid"), ("category", "catid"), ("date", "dateid"),
     ("event", "eventid"), ("listing", "listid"), ("sales", "salesid")],
)
def test_keys_are_unique_and_dense(sf1, table, key):
    count, distinct, low, high = sf1.execute(
        f'select count(*), count(distinct {key}), min({key}), max({key}) from "{table}"'
    ).fetchone()
    assert count == distinct == high - low + 1


def test_sales_values_are_plausible(sf1):
    bad = sf1.execute(
        """
        select
            count(*) filter (where s.qtysold not between 1 and 8),
            count(*) filter (where s.pricepaid <> s.qtysold * l.priceperticket),
            count(*) filter (where s.commission <> round(s.pricepaid * 0.15, 2)),
            count(*) filter (where s.saletime < l.listtime or s.saletime > e.starttime),
            count(*) filter (where d.caldate <> cast(s.saletime as date)),
            count(*) filter (where l.priceperticket not between 20 and 2500),
            count(*) filter (where l.totalprice <> l.numtickets * l.priceperticket),
            count(*) filter (where l.listtime > e.starttime)
        from sales s
        join listing l using (listid)
        join event e on e.eventid = s.eventid
        join date d on d.dateid = s.dateid
        """
    ).fetchone()
    assert bad == (0,) * 8
    oversold = _one(
        sf1,
        "select count(*) from (select listid, sum(qtysold) sold from sales group by listid) s "
        "join listing l using (listid) where s.sold > l.numtickets",
    )
    assert oversold == 0


def test_calendar_and_users_look_real(sf1):
    assert sf1.execute("select min(caldate), max(caldate), count(distinct caldate) from date").fetchone()[2] == 365
    assert str(_one(sf1, "select min(caldate) from date")) == "2008-01-01"
    assert _one(sf1, "select day from date where caldate = '2008-07-04'") == "FR"
    assert _one(sf1, "select holiday from date where caldate = '2008-12-25'") is True
    assert _one(sf1, "select count(*) from event where year(starttime) <> 2008") == 0
    assert _one(sf1, "select count(*) from users where not regexp_full_match(username, '[A-Z]{3}[0-9]{2}[A-Z]{3}')") == 0
    assert _one(sf1, r"select count(*) from users where not regexp_full_match(phone, '\([2-9]\d\d\) \d{3}-\d{4}')") == 0
    assert _one(sf1, "select count(*) from users where likesports is null") > 0  # blanks, as in the real file
    assert _one(sf1, "select count(*) from venue where venueseats is null or venueseats = 0") > 0


def test_popularity_is_heavy_tailed(sf1):
    # The top 1% of events by gross sales take far more than 1% of all sales.
    top_share = _one(
        sf1,
        """
        with gross as (select eventid, sum(pricepaid) total from sales group by eventid),
             ranked as (select total, ntile(100) over (order by total desc) pct from gross)
        select sum(total) filter (where pct = 1) / sum(total) from ranked
        """,
    )
    assert top_share > 0.08
    # The 99.9 percentile (ntile(1000) = 1) of the guide's query holds a handful of events.
    assert 5 <= _one(
        sf1,
        "select count(*) from (select ntile(1000) over (order by sum(pricepaid) desc) p "
        "from sales group by eventid) where p = 1",
    ) <= 12
    # Top buyers stand far above the typical buyer.
    tenth, median = sf1.execute(
        """
        with q as (select buyerid, sum(qtysold) quantity from sales group by buyerid)
        select (select quantity from q order by quantity desc limit 1 offset 9), median(quantity) from q
        """
    ).fetchone()
    assert tenth > 10 * median


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    first = generate(tmp_path / "a", scale=0.05, seed=3).out_dir
    second = generate(tmp_path / "b", scale=0.05, seed=3).out_dir
    other = generate(tmp_path / "c", scale=0.05, seed=4).out_dir
    assert _digests(first) == _digests(second)
    differing = {name for name, digest in _digests(other).items() if digest != _digests(first)[name]}
    # category and date are fixed; every generated table changes with the seed.
    assert differing == {t.file_name for t in TABLES if t.name not in ("category", "date")}


def test_existing_generation_is_kept_unless_forced(tmp_path):
    out = tmp_path / "data"
    assert generate(out, scale=0.01, seed=1).generated
    sales = out / "sales_tab.txt"
    stamp = sales.stat().st_mtime_ns
    assert not generate(out, scale=0.01, seed=1).generated
    assert sales.stat().st_mtime_ns == stamp
    assert generate(out, scale=0.01, seed=2).generated  # another seed: regenerated
    assert read_manifest(out).seed == 2
    assert generate(out, scale=0.01, seed=2, force=True).generated


def test_a_damaged_file_is_noticed_and_regenerated(tmp_path):
    out = generate(tmp_path / "data", scale=0.01, seed=1).out_dir
    listing = out / "listings_pipe.txt"
    good = listing.read_bytes()
    listing.write_bytes(good[: len(good) // 2])
    assert not is_complete(out, 0.01, 1)
    assert generate(out, scale=0.01, seed=1).generated
    assert listing.read_bytes() == good


class Interrupted(Exception):
    pass


def test_interrupted_generation_leaves_the_previous_files(tmp_path):
    out = generate(tmp_path / "data", scale=0.01, seed=1).out_dir
    before = _digests(out)

    def interrupt(task: str, completed: int, total: int) -> None:
        if task == "sales" and completed > 0:
            raise Interrupted

    with pytest.raises(Interrupted):
        generate(out, scale=0.02, seed=9, progress=interrupt)
    assert _digests(out) == before
    assert read_manifest(out).seed == 1 and is_complete(out, 0.01, 1)
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST_NAME, *(t.file_name for t in TABLES)])


def test_interrupted_first_generation_leaves_nothing_that_looks_complete(tmp_path):
    out = tmp_path / "data"

    def interrupt(task: str, completed: int, total: int) -> None:
        if task == "listing" and completed > 0:
            raise Interrupted

    with pytest.raises(Interrupted):
        generate(out, scale=0.02, seed=9, progress=interrupt)
    assert list(out.iterdir()) == []


def test_leftovers_of_a_killed_generation_are_removed(tmp_path):
    out = tmp_path / "data"
    abandoned = out / ".generating-999999999-deadbeef"
    abandoned.mkdir(parents=True)
    (abandoned / "sales_tab.txt").write_text("half")
    generate(out, scale=0.01, seed=1)
    assert not abandoned.exists()


def test_progress_reports_every_table_to_completion(tmp_path):
    seen: dict[str, tuple[int, int]] = {}
    generate(tmp_path / "data", scale=0.01, seed=1, progress=lambda t, done, total: seen.__setitem__(t, (done, total)))
    counts = scaled_row_counts(0.01)
    assert seen == {name: (rows, rows) for name, rows in counts.items()}
