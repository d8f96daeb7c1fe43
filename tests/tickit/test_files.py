"""The validating reader: real-file quirks accepted, damage reported with file and line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from dataops.errors import DataFileError
from dataops.tickit.files import ISO_TIME, US_TIME, parse_file, table_files, time_format
from dataops.tickit.schema import TABLES_BY_NAME

SALES = TABLES_BY_NAME["sales"]
USERS = TABLES_BY_NAME["users"]
VENUE = TABLES_BY_NAME["venue"]
DATE = TABLES_BY_NAME["date"]
LISTING = TABLES_BY_NAME["listing"]

# Lines in the formats of the real sample files (the guide's tickitdb.zip).
REAL_SALES = "1\t1\t36861\t21191\t7872\t1875\t4\t728.00\t109.20\t2/18/2008 02:36:48\n" \
             "2\t4\t8117\t11498\t4337\t1983\t2\t76.00\t11.40\t6/6/2008 02:18:32\n"
REAL_VENUE = "1|Toyota Park|Bridgeview|IL|0\n2|Columbus Crew Stadium|Columbus|OH|0\n" \
             "4|CommunityAmerica Ballpark|Kansas City|KS|\n"
REAL_DATE = "1827|2008-01-01|WE|1|JAN|1|2008|TRUE\n1828|2008-01-02|TH|1|JAN|1|2008|FALSE\n"
REAL_USERS = (
    "1|JSG99FHE|Rafael|Taylor|Kent|WA|Etiam.laoreet.libero@sodalesMaurisblandit.edu|(664) 602-4412|"
    "TRUE||FALSE|TRUE|||FALSE|TRUE||\n"
    "2|PGL08LJI|Vladimir|Humphrey|Murfreesboro|SK|Suspendisse.tristique@nonnisiAenean.edu|(783) 492-1886|"
    "t|f||t|||f|t||f\n"
)


def _parse(table, path):
    con = duckdb.connect()
    parsed = parse_file(con, table, path)
    return parsed, con.execute(f"select * from {parsed.relation}").fetchall()


def test_real_file_formats_are_read(tmp_path):
    (tmp_path / "sales_tab.txt").write_text(REAL_SALES)
    (tmp_path / "venue_pipe.txt").write_text(REAL_VENUE)
    (tmp_path / "date2008_pipe.txt").write_text(REAL_DATE)
    (tmp_path / "allusers_pipe.txt").write_text(REAL_USERS)

    _, sales = _parse(SALES, tmp_path / "sales_tab.txt")
    assert sales[0][-3:] == (Decimal("728.00"), Decimal("109.20"), dt.datetime(2008, 2, 18, 2, 36, 48))
    assert sales[1][-1] == dt.datetime(2008, 6, 6, 2, 18, 32)
    _, venues = _parse(VENUE, tmp_path / "venue_pipe.txt")
    assert [v[-1] for v in venues] == [0, 0, None]
    _, dates = _parse(DATE, tmp_path / "date2008_pipe.txt")
    assert dates[0][1] == dt.date(2008, 1, 1) and [d[-1] for d in dates] == [True, False]
    _, users = _parse(USERS, tmp_path / "allusers_pipe.txt")
    assert users[0][8:] == (True, None, False, True, None, None, False, True, None, None)
    assert users[1][8:] == (True, False, None, True, None, None, False, True, None, False)


def test_time_format_is_read_from_the_first_row(tmp_path):
    (tmp_path / "us.txt").write_text("\n" + REAL_SALES)
    (tmp_path / "iso.txt").write_text("1\t1\t2\t3\t4\t1827\t1\t1.00\t0.15\t2008-01-01 10:00:00\n")
    assert time_format(SALES, tmp_path / "us.txt") == US_TIME
    assert time_format(SALES, tmp_path / "iso.txt") == ISO_TIME
    assert time_format(VENUE, tmp_path / "iso.txt") == ISO_TIME  # no temporal column


@pytest.mark.parametrize(
    ("table", "line", "edit", "words"),
    [
        ("sales", 40, lambda l: l.replace("\t", "\t12x", 1), ["column listid", "'12x", "integer"]),
        ("sales", 7, lambda l: l.rsplit("\t", 1)[0] + "\t2008-13-45 99:00:00", ["saletime", "timestamp"]),
        ("sales", 3, lambda l: l[: len(l) // 2], ["expected 10 fields, found", "truncated"]),
        ("listing", 11, lambda l: l + "|extra", ["expected 8 fields, found 9"]),
        ("event", 2, lambda l: "|".join([l.split("|")[0], "70000", *l.split("|")[2:]]), ["venueid", "smallint"]),
        ("users", 9, lambda l: "|".join([l.split("|")[0], "TOOLONGNAME", *l.split("|")[2:]]), ["username", "char(8)"]),
        ("users", 12, lambda l: "|".join(["", *l.split("|")[1:]]), ["userid", "must have a value"]),
        ("date", 20, lambda l: l.replace("|2008|", "||"), ["year", "must have a value"]),
        ("users", 3, lambda l: "|".join([*l.split("|")[:8], "maybe", *l.split("|")[9:]]), ["likesports", "boolean"]),
    ],
)
def test_damage_is_reported_with_file_and_line(small_dir, corrupt_line, table, line, edit, words):
    path = small_dir / TABLES_BY_NAME[table].file_name
    before = path.read_text()
    corrupt_line(path, line, edit)
    assert path.read_text() != before
    with pytest.raises(DataFileError) as caught:
        _parse(TABLES_BY_NAME[table], path)
    error = caught.value
    assert error.path == path and error.line == line
    assert f"{path}:{line}:" in str(error) and f"table {table}" in str(error)
    for word in words:
        assert word in str(error)


def test_line_numbers_count_blank_lines(small_dir):
    path = small_dir / "venue_pipe.txt"
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(1, "\n")  # a blank line 2: rows 2.. move down a line
    lines[3] = "|" + lines[3].split("|", 1)[1]  # row 3, now on line 4, loses its id
    path.write_text("".join(lines))
    with pytest.raises(DataFileError) as caught:
        _parse(VENUE, path)
    assert caught.value.line == 4


def test_damage_deep_in_a_large_file_is_located(sf1_dir, tmp_path, corrupt_line):
    path = tmp_path / "listings_pipe.txt"
    path.write_bytes((sf1_dir / "listings_pipe.txt").read_bytes())
    corrupt_line(path, 150_001, lambda l: l.replace("|", "|x", 1))
    with pytest.raises(DataFileError) as caught:
        _parse(LISTING, path)
    assert caught.value.line == 150_001


def test_missing_and_empty_files(small_dir):
    (small_dir / "listings_pipe.txt").unlink()
    (small_dir / "sales_tab.txt").unlink()
    with pytest.raises(DataFileError, match="listings_pipe.txt, sales_tab.txt") as caught:
        table_files(small_dir)
    assert caught.value.path == small_dir / "listings_pipe.txt"
    assert "dataops data generate" in str(caught.value)
    (small_dir / "sales_tab.txt").write_text("")
    with pytest.raises(DataFileError, match="empty"):
        _parse(SALES, small_dir / "sales_tab.txt")
    with pytest.raises(DataFileError, match="not found"):
        _parse(LISTING, small_dir / "listings_pipe.txt")


def test_parsed_tables_are_typed_and_complete(small_dir):
    parsed, rows = _parse(SALES, small_dir / "sales_tab.txt")
    assert parsed.rows == len(rows) == len((small_dir / "sales_tab.txt").read_text().splitlines())
    first = rows[0]
    assert isinstance(first[0], int) and isinstance(first[7], Decimal) and isinstance(first[9], dt.datetime)


def test_a_failed_parse_leaves_no_temporary_table(small_dir, corrupt_line):
    con = duckdb.connect()
    corrupt_line(small_dir / "allusers_pipe.txt", 5, lambda l: "|".join(["", *l.split("|")[1:]]))
    with pytest.raises(DataFileError):
        parse_file(con, USERS, small_dir / "allusers_pipe.txt")
    assert con.execute("select count(*) from duckdb_tables()").fetchone()[0] == 0
