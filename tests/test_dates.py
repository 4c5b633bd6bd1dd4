"""Tests for crawler.text.dates.to_utc: every date shape seedtrack meets becomes a naive UTC datetime, or None."""

import time
from datetime import date, datetime, timedelta, timezone

import pytest

from crawler.text.dates import to_utc, utc_now


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # RFC 822 / 2822, the RSS form, with numeric and named zones
        ("Wed, 02 Nov 2011 17:25:27 +0000", datetime(2011, 11, 2, 17, 25, 27)),
        ("Mon, 16 Oct 2017 15:10:00 GMT", datetime(2017, 10, 16, 15, 10)),
        ("Tue, 17 Oct 2017 22:17:00 EST", datetime(2017, 10, 18, 3, 17)),
        ("Thu, 12 Feb 2026 22:00:00 PST", datetime(2026, 2, 13, 6, 0)),
        ("Sun, 1 Feb 2026 23:30:00 +0530", datetime(2026, 2, 1, 18, 0)),
        ("12 Feb 2026 10:00:00 -0200", datetime(2026, 2, 12, 12, 0)),  # no weekday
        # ISO 8601 with offsets, Z, fractions, date only
        ("2024-02-12T10:00:00+08:00", datetime(2024, 2, 12, 2, 0)),
        ("2026-02-14T08:30:00Z", datetime(2026, 2, 14, 8, 30)),
        ("2026-02-14T08:30:00.123456-05:00", datetime(2026, 2, 14, 13, 30, 0, 123456)),
        ("2015-05-03T18:51:50+01:00", datetime(2015, 5, 3, 17, 51, 50)),
        ("2026-02-14", datetime(2026, 2, 14)),
        ("  2026-02-14T08:30:00Z\n", datetime(2026, 2, 14, 8, 30)),
        # GDELT seendate
        ("20260214T083000Z", datetime(2026, 2, 14, 8, 30)),
        ("20251231T235959Z", datetime(2025, 12, 31, 23, 59, 59)),
        # naive strings are taken as UTC
        ("2026-02-14 08:30:00", datetime(2026, 2, 14, 8, 30)),
    ],
)
def test_to_utc_strings(value, expected):
    result = to_utc(value)
    assert result == expected
    assert result.tzinfo is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (time.gmtime(0), datetime(1970, 1, 1)),
        (time.struct_time((2014, 4, 30, 13, 0, 0, 2, 120, 0)), datetime(2014, 4, 30, 13, 0)),
        (0, datetime(1970, 1, 1)),
        (1771057800, datetime(2026, 2, 14, 8, 30)),
        (1771057800.5, datetime(2026, 2, 14, 8, 30, 0, 500000)),
        (datetime(2026, 2, 14, 8, 30), datetime(2026, 2, 14, 8, 30)),  # naive: UTC already
        (datetime(2026, 2, 14, 16, 30, tzinfo=timezone(timedelta(hours=8))), datetime(2026, 2, 14, 8, 30)),
        (datetime(2026, 2, 14, 3, 30, tzinfo=timezone(timedelta(hours=-5))), datetime(2026, 2, 14, 8, 30)),
        (date(2026, 2, 14), datetime(2026, 2, 14)),
    ],
    ids=["struct-epoch", "struct", "epoch-0", "epoch", "epoch-float", "naive", "aware+8", "aware-5", "date"],
)
def test_to_utc_objects(value, expected):
    result = to_utc(value)
    assert result == expected
    assert result.tzinfo is None


@pytest.mark.parametrize(
    "value",
    [
        None, "", "   ", "garbage", "not a date at all", "2026-02-30", "Mon, 32 Oct 2017 15:10:00 +0000",
        "2026-02-14T25:00:00Z",
        "20261314T083000Z",  # GDELT form with month 13
        "99999999T999999Z",
        True, False, [2026, 2, 14], {"year": 2026}, object(),
        float("nan"), 1e20, 1771057800000,  # epoch milliseconds: beyond year 9999
        time.struct_time((2016, 12, 31, 23, 59, 60, 5, 366, 0)),  # leap second
    ],
)
def test_to_utc_unusable_gives_none(value):
    assert to_utc(value) is None


def test_to_utc_us_style_date_with_am_pm_and_zone():
    assert to_utc("Feb 12, 2026 10:00 PM PST") == datetime(2026, 2, 13, 6, 0)


@pytest.mark.parametrize("partial", ["March", "Monday", "12", "10:00 PM"])
def test_to_utc_refuses_partial_dates(partial):
    assert to_utc(partial) is None


def test_to_utc_now_is_naive_utc():
    before = datetime.now(timezone.utc).replace(tzinfo=None)
    now = utc_now()
    assert now.tzinfo is None
    assert before <= now <= before + timedelta(seconds=5)
