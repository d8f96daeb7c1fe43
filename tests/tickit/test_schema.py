"""The table descriptions and the DDL rendered from them."""

from __future__ import annotations

import re

import duckdb

from dataops.tickit.schema import SF1_ROWS, TABLES, TABLES_BY_NAME, render_ddl

# The getting-started guide's statements, as published (whitespace aside).
GUIDE_SALES = """
create table sales(
    salesid integer not null,
    listid integer not null distkey,
    sellerid integer not null,
    buyerid integer not null,
    eventid integer not null,
    dateid smallint not null sortkey,
    qtysold smallint not null,
    pricepaid decimal(8,2),
    commission decimal(8,2),
    saletime timestamp)
"""
GUIDE_DATE = """
create table date(
    dateid smallint not null distkey sortkey,
    caldate date not null,
    day character(3) not null,
    week smallint not null,
    month character(5) not null,
    qtr character(5) not null,
    year smallint not null,
    holiday boolean default('N'))
"""
GUIDE_LISTING = """
create table listing(
    listid integer not null distkey,
    sellerid integer not null,
    eventid integer not null,
    dateid smallint not null  sortkey,
    numtickets smallint not null,
    priceperticket decimal(8,2),
    totalprice decimal(8,2),
    listtime timestamp)
"""


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_redshift_ddl_is_the_guides():
    assert _squash(render_ddl(TABLES_BY_NAME["sales"], "redshift")) == _squash(GUIDE_SALES)
    assert _squash(render_ddl(TABLES_BY_NAME["date"], "redshift")) == _squash(GUIDE_DATE)
    assert _squash(render_ddl(TABLES_BY_NAME["listing"], "redshift")) == _squash(GUIDE_LISTING)


def test_keys_as_in_the_guide():
    distkeys = {t.name: [c.name for c in t.columns if c.distkey] for t in TABLES}
    sortkeys = {t.name: [c.name for c in t.columns if c.sortkey] for t in TABLES}
    assert distkeys == {
        "users": ["userid"], "venue": ["venueid"], "category": ["catid"], "date": ["dateid"],
        "event": ["eventid"], "listing": ["listid"], "sales": ["listid"],
    }
    assert sortkeys == {
        "users": ["userid"], "venue": ["venueid"], "category": ["catid"], "date": ["dateid"],
        "event": ["dateid"], "listing": ["dateid"], "sales": ["dateid"],
    }


def test_files_and_columns():
    files = {t.name: (t.file_name, t.delimiter, len(t.columns)) for t in TABLES}
    assert files == {
        "users": ("allusers_pipe.txt", "|", 18),
        "venue": ("venue_pipe.txt", "|", 5),
        "category": ("category_pipe.txt", "|", 4),
        "date": ("date2008_pipe.txt", "|", 8),
        "event": ("allevents_pipe.txt", "|", 6),
        "listing": ("listings_pipe.txt", "|", 8),
        "sales": ("sales_tab.txt", "\t", 10),
    }
    users = TABLES_BY_NAME["users"]
    assert [c.name for c in users.columns if c.type == "boolean"] == [
        "likesports", "liketheatre", "likeconcerts", "likejazz", "likeclassical",
        "likeopera", "likerock", "likevegas", "likebroadway", "likemusicals",
    ]
    assert users.column("username").max_length == 8 and users.column("phone").max_length == 14
    assert set(SF1_ROWS) == {t.name for t in TABLES}


def test_duckdb_ddl_runs_and_keeps_not_null():
    con = duckdb.connect()
    con.execute("create schema tickit")
    for table in TABLES:
        con.execute(render_ddl(table, "duckdb", "tickit"))
    columns = con.execute(
        "select column_name, data_type, is_nullable from information_schema.columns "
        "where table_name = 'sales' order by ordinal_position"
    ).fetchall()
    assert columns[0] == ("salesid", "INTEGER", "NO")
    assert columns[7] == ("pricepaid", "DECIMAL(8,2)", "YES")
    con.execute('insert into tickit.date (dateid, caldate, day, week, month, qtr, year) '
                "values (1, '2008-01-01', 'TU', 1, 'JAN', '1', 2008)")
    assert con.execute("select holiday from tickit.date").fetchone() == (False,)
