"""The platform's clock: every "now" and "today" the services use comes from here.

A service never asks the system for the date: it calls :func:`now` (an aware UTC
instant) or :func:`today` (the calendar day in the tenant's time zone, Europe/Paris by
default), or takes ``now``/``today`` as an argument from a caller that did. Tests,
benchmarks and demonstrations move the clock with :func:`set_now` / :func:`travel`: from
then on the clock reads the instant given plus the time elapsed since (it keeps
flowing, so "later" stays later), in every thread of the process (a live test server
included). ``time.time()`` stays the system's for what never reaches a person (rate
limits, cookie signatures of libraries).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Europe/Paris"

# The pinned instant and the monotonic reading taken when it was pinned; ``None``: the
# system clock. One process-wide value on purpose (threads of a live server share it).
_pinned: tuple[datetime, float] | None = None


def now() -> datetime:
    """The current instant, aware, in UTC."""
    if _pinned is None:
        return datetime.now(UTC)
    instant, at = _pinned
    return instant + timedelta(seconds=time.monotonic() - at)


def timestamp() -> float:
    """The current instant as POSIX seconds (session and one-time-token ages, TOTP)."""
    return now().timestamp()


def zone(tenant=None) -> ZoneInfo:
    """The tenant's time zone (``Tenant.timezone``), Europe/Paris when unknown."""
    return ZoneInfo(getattr(tenant, "timezone", None) or DEFAULT_TIMEZONE)


def local_day(instant: datetime, tenant=None) -> date:
    """The calendar day ``instant`` falls on in the tenant's time zone."""
    return instant.astimezone(zone(tenant)).date()


def year_bounds(year: int, tenant=None) -> tuple[datetime, datetime]:
    """``[1 January, 1 January next year)`` of ``year`` in the tenant's timezone, as UTC
    instants."""
    tz = zone(tenant)
    return (datetime(year, 1, 1, tzinfo=tz).astimezone(UTC),
            datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC))


def today(tenant=None) -> date:
    """Today in the tenant's time zone (00:30 in Paris on 1 January is already the new
    year, though it is still 31 December in UTC)."""
    return local_day(now(), tenant)


def set_now(instant: datetime | None) -> None:
    """Pin the clock to ``instant`` (aware) from now on; ``None`` gives back the system
    clock."""
    global _pinned
    if instant is None:
        _pinned = None
        return
    if instant.tzinfo is None:
        raise ValueError("the clock takes an aware datetime (with its offset or zone)")
    _pinned = (instant.astimezone(UTC), time.monotonic())


@contextmanager
def travel(instant: datetime) -> Iterator[datetime]:
    """``with clock.travel(datetime(2026, 12, 31, 23, 30, tzinfo=PARIS)):`` runs the
    block at that instant; the clock is put back as it was afterwards."""
    global _pinned
    previous = _pinned
    set_now(instant)
    try:
        yield instant
    finally:
        _pinned = previous


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant for ``CCAS_TEST_NOW``/``--now`` options; a value without an
    offset is read in Europe/Paris."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(DEFAULT_TIMEZONE))
    return value
