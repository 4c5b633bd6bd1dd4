"""Turns the many date shapes of feeds, APIs and pages into naive UTC datetimes (the database's convention)."""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime

from dateutil import parser as dateutil_parser


def to_utc(value: object) -> datetime | None:
    """A naive UTC datetime for a datetime, date, struct_time (UTC), epoch seconds or date string; else None.

    Naive inputs are taken as UTC. Unparseable strings give None rather than a guess.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, (time.struct_time, int, float)) and not isinstance(value, bool):
        try:
            if isinstance(value, time.struct_time):
                moment = datetime(*value[:6])
            else:
                moment = datetime.fromtimestamp(value, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):  # NaN, out of range (e.g. epoch milliseconds), second 60
            return None
    elif isinstance(value, str):
        moment = _parse_string(value.strip())
        if moment is None:
            return None
    else:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


# RFC 822 dates as RSS writes them: "Thu, 12 Feb 2026 10:00:00 +0800" (the weekday is optional).
_RFC822 = re.compile(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}")
# Zone names seen in feeds; RFC 822 defines the US ones (so CST is US Central here, not China).
_ZONES = {name: hours * 3600 for name, hours in {
    "UTC": 0, "UT": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6,
    "PST": -8, "PDT": -7, "BST": 1, "CET": 1, "CEST": 2, "JST": 9, "KST": 9, "HKT": 8, "SGT": 8, "IST": 5.5,
}.items()}
_DEFAULTS = (datetime(2000, 1, 1, 0, 0, 0), datetime(2001, 2, 2, 1, 1, 1))


def _parse_string(text: str) -> datetime | None:
    if len(text) == 16 and text[8] == "T" and text.endswith("Z") and text[:8].isdigit():  # GDELT 20260214T083000Z
        try:
            return datetime.strptime(text, "%Y%m%dT%H%M%SZ")
        except ValueError:  # e.g. month 13: unparseable, not a crash
            return None
    try:
        return dateutil_parser.isoparse(text)
    except (ValueError, OverflowError):
        pass
    if _RFC822.match(text):
        try:
            return parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            pass
    # Anything else must name a full date: parsed with two different defaults, a partial date
    # ("March", "Monday") comes out differently and is refused rather than guessed.
    try:
        first, second = (dateutil_parser.parse(text, default=d, tzinfos=_ZONES) for d in _DEFAULTS)
    except (ValueError, OverflowError, dateutil_parser.ParserError):
        return None
    return first if first.date() == second.date() else None


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


_INTERVAL = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(value: str) -> int:
    """``"90s"``, ``"15m"``, ``"2h"``, ``"1d"`` -> seconds; ValueError otherwise."""
    if not (m := _INTERVAL.match(str(value).strip())) or int(m[1]) == 0:
        raise ValueError(f'bad interval {value!r}: use a positive number and a unit s, m, h or d, e.g. "15m" or "1h"')
    return int(m[1]) * _UNITS[m[2]]
