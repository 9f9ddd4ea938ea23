"""iCalendar (RFC 5545) text for appointments. Pure: data in, text out.

* Lines end with CRLF and are folded at 75 octets (UTF-8 aware: a character is never
  split; continuation lines start with one space, which counts in the 75).
* TEXT values are escaped (``\\`` ``;`` ``,`` and newlines).
* Times are given either in UTC (``DTSTART:20271031T090000Z``) or in a named zone
  (``DTSTART;TZID=Europe/Paris:20271031T100000``); a named zone comes with its
  ``VTIMEZONE``, built from the zone database for the years the events span, so the
  receiving calendar needs no knowledge of the zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .. import clock

CRLF = "\r\n"
MAX_OCTETS = 75


@dataclass(frozen=True)
class Event:
    """One ``VEVENT``. ``start`` must be aware."""

    uid: str
    start: datetime
    duration_minutes: int
    summary: str
    description: str = ""
    location: str = ""
    status: str = "CONFIRMED"  # CONFIRMED, TENTATIVE or CANCELLED
    sequence: int = 0


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 §3.3.11)."""
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold one content line at 75 octets; returns it with CRLF line breaks (no final)."""
    parts: list[str] = []
    current, size, limit = [], 0, MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [" "], 1, MAX_OCTETS
        current.append(char)
        size += width
    parts.append("".join(current))
    return CRLF.join(parts)


def _utc(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime refused: use an aware datetime")
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%S")


def _offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


def _transitions(zone: ZoneInfo, year: int) -> list[datetime]:
    """UTC instants in ``year`` where the zone's offset changes (hour resolution, then
    refined to the minute)."""
    found = []
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    step = timedelta(hours=1)
    t, before = start, start.astimezone(zone).utcoffset()
    while t < end:
        nxt = t + step
        after = nxt.astimezone(zone).utcoffset()
        if after != before:
            lo, hi = t, nxt  # offset(lo) == before, offset(hi) == after
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(zone).utcoffset() == before:
                    lo = mid
                else:
                    hi = mid
            found.append(hi.replace(second=0, microsecond=0))
            before = after
        t = nxt
    return found


def vtimezone(tzid: str, years: set[int]) -> list[str]:
    """Content lines of a ``VTIMEZONE`` for ``tzid`` covering ``years``."""
    zone = ZoneInfo(tzid)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tzid}"]
    components = []
    for year in sorted(years):
        for instant in _transitions(zone, year):
            before = (instant - timedelta(minutes=1)).astimezone(zone)
            after = instant.astimezone(zone)
            kind = "DAYLIGHT" if after.dst() else "STANDARD"
            # DTSTART of a sub-component is the local time in the offset before the change.
            local_start = (instant + before.utcoffset()).replace(tzinfo=None)
            components.append((kind, local_start, before.utcoffset(), after.utcoffset(),
                               after.tzname()))
    if not components:
        probe = datetime(min(years), 6, 1, tzinfo=UTC).astimezone(zone)
        components.append(("STANDARD", datetime(1970, 1, 1), probe.utcoffset(),
                           probe.utcoffset(), probe.tzname()))
    for kind, local_start, offset_from, offset_to, name in components:
        lines += [
            f"BEGIN:{kind}",
            f"DTSTART:{_local(local_start)}",
            f"TZOFFSETFROM:{_offset(offset_from)}",
            f"TZOFFSETTO:{_offset(offset_to)}",
            f"TZNAME:{escape_text(name or '')}",
            f"END:{kind}",
        ]
    lines.append("END:VTIMEZONE")
    return lines


def vevent(event: Event, tzid: str | None = None, stamp: datetime | None = None) -> list[str]:
    """Content lines of one ``VEVENT`` (times in ``tzid``, or UTC when ``None``)."""
    if event.start.tzinfo is None:
        raise ValueError("naive datetime refused: use an aware datetime")
    end = event.start + timedelta(minutes=event.duration_minutes)
    if tzid and tzid != "UTC":
        zone = ZoneInfo(tzid)
        start_line = f"DTSTART;TZID={tzid}:{_local(event.start.astimezone(zone))}"
        end_line = f"DTEND;TZID={tzid}:{_local(end.astimezone(zone))}"
    else:
        start_line, end_line = f"DTSTART:{_utc(event.start)}", f"DTEND:{_utc(end)}"
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{_utc(stamp or clock.now())}",
        start_line,
        end_line,
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    lines += [f"STATUS:{event.status}", f"SEQUENCE:{event.sequence}", "END:VEVENT"]
    return lines


def calendar(events: list[Event], tzid: str | None = "Europe/Paris",
             stamp: datetime | None = None, method: str = "PUBLISH",
             prodid: str = "-//ccas-network//Rendez-vous//FR") -> str:
    """A complete ``VCALENDAR`` text (CRLF, folded) with its ``VTIMEZONE`` when needed."""
    use_zone = tzid if tzid and tzid != "UTC" else None
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{prodid}", "CALSCALE:GREGORIAN",
             f"METHOD:{method}"]
    if use_zone and events:
        zone = ZoneInfo(use_zone)
        years = set()
        for e in events:
            end = e.start + timedelta(minutes=e.duration_minutes)
            years |= {e.start.astimezone(zone).year, end.astimezone(zone).year}
        lines += vtimezone(use_zone, years)
    for e in events:
        lines += vevent(e, use_zone, stamp)
    lines.append("END:VCALENDAR")
    return CRLF.join(fold(line) for line in lines) + CRLF
