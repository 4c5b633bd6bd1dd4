"""Turns the many date shapes of feeds, APIs and pages into naive UTC datetimes (the database's convention)."""

from __future__ import annotations

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


def _parse_string(text: str) -> datetime | None:
    if len(text) == 16 and text[8] == "T" and text.endswith("Z") and text[:8].isdigit():  # GDELT 20260214T083000Z
        try:
            return datetime.strptime(text, "%Y%m%dT%H%M%SZ")
        except ValueError:  # e.g. month 13: unparseable, not a crash
            return None
    try:
        return parsedate_to_datetime(text)  # RFC 822 / 2822, the RSS form
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return dateutil_parser.isoparse(text)
    except (ValueError, OverflowError):
        pass
    try:
        return dateutil_parser.parse(text)
    except (ValueError, OverflowError, dateutil_parser.ParserError):
        return None


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
