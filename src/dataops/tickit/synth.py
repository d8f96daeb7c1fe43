"""Synthetic TICKIT rows as Arrow tables: vectorized, seeded, consistent.

Everything is computed with whole-array numpy and Arrow compute operations,
never a Python loop per row. Each table draws from its own random stream
(seeded by the seed and the table), so the output depends only on the seed
and the scale.

The shape of the data:
- every event is in 2008 (the date table's year) and is popular to a degree
  drawn from a Zipf-like law, so a few events gross far more than the rest;
- listings go to events in proportion to that popularity, are put up before
  the event starts, and sell at whole-dollar prices;
- sales take a listing at random and happen between its listing time and the
  event, with the listing's seller and event; buyers and sellers are also
  drawn with Zipf-like weights, so the top buyers stand out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dataops.tickit import vocabulary as words
from dataops.tickit.schema import SF1_ROWS, TABLE_NAMES, USERS

YEAR_START = int(dt.datetime(2008, 1, 1, tzinfo=dt.timezone.utc).timestamp())
YEAR_START_DAYS = YEAR_START // 86_400
FIRST_DATEID = 1827  # as in the real date2008_pipe.txt
DAYS = 365  # 2008-01-01 .. 2008-12-30, as in the real file
DAY = 86_400
MAX_SMALLINT = 32_767

# Rows that do not grow with the scale factor.
FIXED_ROWS = {"category": 11, "date": DAYS}

CATEGORIES = [
    (1, "Sports", "MLB", "Major League Baseball"),
    (2, "Sports", "NHL", "National Hockey League"),
    (3, "Sports", "NFL", "National Football League"),
    (4, "Sports", "NBA", "National Basketball Association"),
    (5, "Sports", "MLS", "Major League Soccer"),
    (6, "Shows", "Musicals", "Musical theatre"),
    (7, "Shows", "Plays", "All non-musical theatre"),
    (8, "Shows", "Opera", "All opera and light opera"),
    (9, "Concerts", "Pop", "All rock and pop music concerts"),
    (10, "Concerts", "Jazz", "All jazz singers and bands"),
    (11, "Concerts", "Classical", "All symphony, concerto, and choir concerts"),
]

# US federal holidays of 2008 (day of year, 0-based).
HOLIDAYS_2008 = [
    (dt.date(2008, m, d) - dt.date(2008, 1, 1)).days
    for m, d in ((1, 1), (1, 21), (2, 18), (5, 26), (7, 4), (9, 1), (10, 13), (11, 11), (11, 27), (12, 25))
]

# How strongly popularity is skewed (weight of the item of rank r: r ** -exponent).
EVENT_SKEW = 0.8
BUYER_SKEW = 0.6
SELLER_SKEW = 0.5

# Event categories (Musicals, Plays, Opera, Pop), their share and typical ticket price.
EVENT_CATEGORIES = np.array([6, 7, 8, 9])
EVENT_CATEGORY_SHARE = np.array([0.25, 0.25, 0.10, 0.40])
BASE_PRICE = np.array([150.0, 90.0, 180.0, 120.0])
SHOW_TIMES = np.array([14 * 3600 + 1800, 15 * 3600, 19 * 3600, 19 * 3600 + 1800, 20 * 3600, 20 * 3600 + 1800])
QTY_WEIGHTS = np.array([0.34, 0.30, 0.12, 0.12, 0.04, 0.04, 0.02, 0.02])  # qtysold 1..8
COMMISSION_PERCENT = 15


def scaled_row_counts(scale: float) -> dict[str, int]:
    """Rows per table at ``scale``: SF 1 is the real sample's size."""
    counts = {}
    for name in TABLE_NAMES:
        if name in FIXED_ROWS:
            counts[name] = FIXED_ROWS[name]
        else:
            counts[name] = max(2 if name == "users" else 1, round(SF1_ROWS[name] * scale))
    # venueid is a smallint: past SF ~160 the venues stop growing.
    counts["venue"] = min(counts["venue"], MAX_SMALLINT)
    return counts


@dataclass(frozen=True)
class _Events:
    catid: np.ndarray
    starttime: np.ndarray  # epoch seconds
    popularity: _Zipf
    # How much dearer than its category's typical ticket the event is.
    price_factor: np.ndarray


def build_tables(scale: float, seed: int) -> Iterator[tuple[str, pa.Table]]:
    """Yields ``(table name, Arrow table)`` in load order."""
    counts = scaled_row_counts(scale)

    def rng(table: str) -> np.random.Generator:
        return np.random.default_rng([seed, TABLE_NAMES.index(table)])

    yield "users", _users(rng("users"), counts["users"])
    yield "venue", _venues(rng("venue"), counts["venue"])
    yield "category", _categories()
    yield "date", _dates()
    event_table, events = _events(rng("event"), counts["event"], counts["venue"])
    yield "event", event_table
    listing_table, sales_table = _listings_and_sales(
        rng("listing"), rng("sales"), counts["listing"], counts["sales"], counts["users"], events
    )
    yield "listing", listing_table
    yield "sales", sales_table


# --- users, venues, categories, dates ------------------------------------------------


def _users(rng: np.random.Generator, n: int) -> pa.Table:
    first = _pick(words.FIRST_NAMES, rng.integers(0, len(words.FIRST_NAMES), n))
    last = _pick(words.LAST_NAMES, rng.integers(0, len(words.LAST_NAMES), n))
    home = rng.integers(0, len(words.CITIES), n)
    userid = np.arange(1, n + 1, dtype=np.int32)
    email = pc.binary_join_element_wise(
        pc.utf8_lower(first), ".", pc.utf8_lower(last), _text(userid), "@",
        _pick(words.EMAIL_DOMAINS, rng.integers(0, len(words.EMAIL_DOMAINS), n)), "",
    )
    columns = {
        "userid": userid,
        "username": _fixed_text(_username_bytes(rng, n)),
        "firstname": first,
        "lastname": last,
        "city": _pick([c for c, _ in words.CITIES], home),
        "state": _pick([s for _, s in words.CITIES], home),
        "email": email,
        "phone": _fixed_text(_phone_bytes(rng, n)),
    }
    # Many users leave a preference blank (NULL in the table).
    flags = pa.array(["TRUE", "FALSE", None])
    for like in (column.name for column in USERS.columns if column.type == "boolean"):
        yes = rng.uniform(0.2, 0.5)
        choice = np.searchsorted(np.cumsum([yes, 0.65 - yes]), rng.random(n), side="right")
        columns[like] = flags.take(pa.array(choice))
    return pa.table(columns)


def _username_bytes(rng: np.random.Generator, n: int) -> np.ndarray:
    # Like the real ones ("JSG99FHE"): three letters, two digits, three letters.
    chars = np.empty((n, 8), dtype=np.uint8)
    chars[:, [0, 1, 2, 5, 6, 7]] = rng.integers(ord("A"), ord("Z") + 1, (n, 6), dtype=np.uint8)
    chars[:, [3, 4]] = rng.integers(ord("0"), ord("9") + 1, (n, 2), dtype=np.uint8)
    return chars


def _phone_bytes(rng: np.random.Generator, n: int) -> np.ndarray:
    chars = np.frombuffer(b"(000) 000-0000" * n, dtype=np.uint8).reshape(n, 14).copy()
    chars[:, [2, 3, 6, 7, 8, 10, 11, 12, 13]] = rng.integers(ord("0"), ord("9") + 1, (n, 9), dtype=np.uint8)
    chars[:, 1] = rng.integers(ord("2"), ord("9") + 1, n, dtype=np.uint8)  # no area code starts with 0 or 1
    return chars


def _venues(rng: np.random.Generator, n: int) -> pa.Table:
    town = rng.integers(0, len(words.CITIES), n)
    city = _pick([c for c, _ in words.CITIES], town)
    kind = _pick(words.VENUE_KINDS, rng.integers(0, len(words.VENUE_KINDS), n))
    sponsor = _pick(words.VENUE_SPONSORS, rng.integers(0, len(words.VENUE_SPONSORS), n))
    name = pc.if_else(
        pa.array(rng.random(n) < 0.5),
        pc.binary_join_element_wise(sponsor, kind, " "),
        pc.binary_join_element_wise(city, kind, " "),
    )
    # As in the real file, many venues have no (NULL) or zero seat count.
    seats = (rng.integers(100, 8_000, n) * 10).astype(np.int32)
    roll = rng.random(n)
    seats[roll < 0.15] = 0
    return pa.table({
        "venueid": np.arange(1, n + 1, dtype=np.int16),
        "venuename": name,
        "venuecity": city,
        "venuestate": _pick([s for _, s in words.CITIES], town),
        "venueseats": pa.array(seats, mask=roll > 0.8),
    })


def _categories() -> pa.Table:
    catid, group, name, desc = zip(*CATEGORIES)
    return pa.table({
        "catid": pa.array(catid, pa.int16()),
        "catgroup": list(group),
        "catname": list(name),
        "catdesc": list(desc),
    })


def _dates() -> pa.Table:
    day = np.arange(DAYS)
    calendar = np.datetime64("2008-01-01") + day
    month = calendar.astype("datetime64[M]").astype(np.int64) % 12
    # 2008-01-01 was a Tuesday; weeks start on Sunday.
    weekday = (day + 1) % 7
    holiday = np.isin(day, HOLIDAYS_2008)
    return pa.table({
        "dateid": (FIRST_DATEID + day).astype(np.int16),
        "caldate": pa.array(calendar.astype("datetime64[D]"), pa.date32()),
        "day": _pick(["MO", "TU", "WE", "TH", "FR", "SA", "SU"], weekday),
        "week": ((day + 2) // 7 + 1).astype(np.int16),
        "month": _pick(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], month),
        "qtr": _text(month // 3 + 1),
        "year": np.full(DAYS, 2008, dtype=np.int16),
        "holiday": _pick(["FALSE", "TRUE"], holiday.astype(np.int64)),
    })


# --- events, listings, sales ----------------------------------------------------------


def _events(rng: np.random.Generator, n: int, venues: int) -> tuple[pa.Table, _Events]:
    shares = np.cumsum(EVENT_CATEGORY_SHARE)
    category = np.searchsorted(shares, rng.random(n) * shares[-1], side="right")
    category = np.minimum(category, len(EVENT_CATEGORIES) - 1)
    day = rng.integers(0, DAYS, n)
    starttime = YEAR_START + day * DAY + rng.choice(SHOW_TIMES, n)
    names = _event_names(rng, category)
    table = pa.table({
        "eventid": np.arange(1, n + 1, dtype=np.int32),
        "venueid": rng.integers(1, venues + 1, n).astype(np.int16),
        "catid": EVENT_CATEGORIES[category].astype(np.int16),
        "dateid": (FIRST_DATEID + day).astype(np.int16),
        "eventname": names,
        "starttime": _timestamps(starttime),
    })
    return table, _Events(category, starttime, _Zipf.shuffled(rng, n, EVENT_SKEW), rng.lognormal(0.0, 0.5, n))


def _event_names(rng: np.random.Generator, category: np.ndarray) -> pa.Array:
    bands = [f"{a} {b}" for a in words.BAND_ADJECTIVES for b in words.BAND_NOUNS]
    pools = [words.MUSICALS, words.PLAYS, words.OPERAS, bands]
    sizes = np.array([len(pool) for pool in pools])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    index = offsets[category] + (rng.random(len(category)) * sizes[category]).astype(np.int64)
    return _pick([name for pool in pools for name in pool], index)


@dataclass
class _Listings:
    """Listings in listid order (index i is listid i + 1)."""

    event: np.ndarray  # 0-based event index
    seller: np.ndarray  # userid
    numtickets: np.ndarray
    listtime: np.ndarray  # epoch seconds
    price: np.ndarray  # whole dollars per ticket


def _listings_and_sales(
    listing_rng: np.random.Generator,
    sales_rng: np.random.Generator,
    n_listings: int,
    n_sales: int,
    n_users: int,
    events: _Events,
) -> tuple[pa.Table, pa.Table]:
    listings = _listings(listing_rng, n_listings, n_users, events)
    sales = _sales(sales_rng, n_sales, n_users, events, listings)  # may raise numtickets
    return _listing_table(listings), sales


def _listings(rng: np.random.Generator, n: int, n_users: int, events: _Events) -> _Listings:
    event = events.popularity.draw(rng, n)
    seller = _Zipf.shuffled(rng, n_users, SELLER_SKEW).draw(rng, n) + 1
    numtickets = np.minimum(1 + rng.geometric(0.12, n), 30)
    # Put up for sale hours to weeks before the event, but not before 2008.
    event_start = events.starttime[event]
    lead = 3600 + rng.exponential(25 * DAY, n).astype(np.int64)
    since_new_year = (rng.random(n) * (event_start - YEAR_START)).astype(np.int64)
    listtime = np.where(event_start - lead < YEAR_START, YEAR_START + since_new_year, event_start - lead)
    price = BASE_PRICE[events.catid[event]] * events.price_factor[event] * rng.lognormal(0.0, 0.35, n)
    price = np.clip(np.rint(price), 20, 2_500).astype(np.int64)
    # listid follows listing time, as a ticket exchange would number them.
    order = np.argsort(listtime, kind="stable")
    return _Listings(event[order], seller[order], numtickets[order], listtime[order], price[order])


def _sales(
    rng: np.random.Generator, n: int, n_users: int, events: _Events, listings: _Listings
) -> pa.Table:
    listing = rng.integers(0, len(listings.event), n)
    qtysold = np.searchsorted(np.cumsum(QTY_WEIGHTS), rng.random(n) * QTY_WEIGHTS.sum(), side="right") + 1
    qtysold = np.minimum(np.minimum(qtysold, 8), listings.numtickets[listing])
    # A listing that sold more than it offered (several sales) offered at least that.
    sold = np.bincount(listing, weights=qtysold, minlength=len(listings.event)).astype(np.int64)
    listings.numtickets = np.maximum(listings.numtickets, sold)
    seller = listings.seller[listing]
    buyer = _Zipf.shuffled(rng, n_users, BUYER_SKEW).draw(rng, n) + 1
    buyer = np.where(buyer == seller, buyer % n_users + 1, buyer)  # nobody buys their own tickets
    listtime = listings.listtime[listing]
    event = listings.event[listing]
    saletime = listtime + (rng.random(n) * (events.starttime[event] - listtime)).astype(np.int64)
    pricepaid = qtysold * listings.price[listing] * 100  # cents
    commission = (pricepaid * COMMISSION_PERCENT + 50) // 100  # rounded half up
    # salesid follows sale time.
    order = np.argsort(saletime, kind="stable")
    return pa.table({
        "salesid": np.arange(1, n + 1, dtype=np.int32),
        "listid": (listing[order] + 1).astype(np.int32),
        "sellerid": seller[order].astype(np.int32),
        "buyerid": buyer[order].astype(np.int32),
        "eventid": (event[order] + 1).astype(np.int32),
        "dateid": _dateid(saletime[order]),
        "qtysold": qtysold[order].astype(np.int16),
        "pricepaid": _money(pricepaid[order]),
        "commission": _money(commission[order]),
        "saletime": _timestamps(saletime[order]),
    })


def _listing_table(listings: _Listings) -> pa.Table:
    return pa.table({
        "listid": np.arange(1, len(listings.event) + 1, dtype=np.int32),
        "sellerid": listings.seller.astype(np.int32),
        "eventid": (listings.event + 1).astype(np.int32),
        "dateid": _dateid(listings.listtime),
        "numtickets": listings.numtickets.astype(np.int16),
        "priceperticket": _money(listings.price * 100),
        "totalprice": _money(listings.price * listings.numtickets * 100),
        "listtime": _timestamps(listings.listtime),
    })


# --- helpers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Zipf:
    """Items whose popularity falls off as rank ** -exponent (0 < exponent < 1),
    the ranks shuffled over the items."""

    by_rank: np.ndarray  # item index of rank 1, 2, ...
    exponent: float

    @classmethod
    def shuffled(cls, rng: np.random.Generator, n: int, exponent: float) -> _Zipf:
        return cls(rng.permutation(n), exponent)

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` 0-based item indexes (inverting the continuous Zipf CDF: no search)."""
        power = 1.0 - self.exponent
        low, high = 0.5**power, (len(self.by_rank) + 0.5) ** power
        rank = np.rint((low + rng.random(size) * (high - low)) ** (1.0 / power)).astype(np.int64)
        return self.by_rank[np.clip(rank, 1, len(self.by_rank)) - 1]


def _pick(vocabulary: Sequence[str], index: np.ndarray) -> pa.Array:
    return pa.array(vocabulary, pa.string()).take(pa.array(index))


def _text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _fixed_text(chars: np.ndarray) -> pa.Array:
    rows, width = chars.shape
    raw = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), rows, [None, pa.py_buffer(chars.tobytes())])
    return raw.cast(pa.binary()).cast(pa.string())


def _money(cents: np.ndarray) -> pa.Array:
    """Cents as decimal(8,2) (written "728.00"), built straight from the integers."""
    cents = np.asarray(cents, dtype=np.int64)
    # A decimal128 is the unscaled integer in 16 little-endian bytes.
    words = np.zeros((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    return pa.Array.from_buffers(pa.decimal128(8, 2), len(cents), [None, pa.py_buffer(words)])


def _timestamps(epoch_seconds: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(epoch_seconds, dtype=np.int64), pa.timestamp("s"))


def _dateid(epoch_seconds: np.ndarray) -> np.ndarray:
    return (FIRST_DATEID + epoch_seconds // DAY - YEAR_START_DAYS).astype(np.int16)
