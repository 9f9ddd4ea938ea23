"""core.features.ics: RFC 5545 text (CRLF, folding at 75 octets, escaping, time zones)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.features import ics

STAMP = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def parse(text: str) -> list[tuple[str, dict, str]]:
    """Unfold and split content lines into (name, params, value)."""
    assert text.endswith("\r\n")
    unfolded = text.replace("\r\n ", "").replace("\r\n\t", "")
    out = []
    for line in unfolded.split("\r\n")[:-1]:
        head, _, value = line.partition(":")
        name, *params = head.split(";")
        out.append((name, dict(p.split("=", 1) for p in params), value))
    return out


def unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def component(lines, name):
    inside, found = False, []
    for n, params, value in lines:
        if n == "BEGIN" and value == name:
            inside, current = True, {}
            continue
        if n == "END" and value == name:
            inside = False
            found.append(current)
            continue
        if inside:
            current.setdefault(n, (params, value))
    return found


def event(**kw):
    base = dict(uid="abc@alpha.ccas-network", start=datetime(2027, 1, 12, 9, 30, tzinfo=UTC),
                duration_minutes=45, summary="Rendez-vous CCAS")
    base.update(kw)
    return ics.Event(**base)


def test_calendar_uses_crlf_and_no_bare_lf():
    text = ics.calendar([event(description="a\nb")], stamp=STAMP)
    assert "\n" not in text.replace("\r\n", "")
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")


def test_lines_are_folded_at_75_octets_without_splitting_characters():
    long = "Rendez-vous à l'accueil du CCAS, bâtiment éloigné " * 6
    text = ics.calendar([event(location=long)], stamp=STAMP)
    for raw in text.split("\r\n"):
        assert len(raw.encode("utf-8")) <= 75
    location = [v for n, _, v in parse(text) if n == "LOCATION"][0]
    assert unescape(location) == long


def test_text_values_are_escaped_and_parse_back():
    summary = "Rendez-vous; bilan, budget \\ suite"
    description = "Ligne 1\nLigne 2, avec virgule; et point-virgule"
    text = ics.calendar([event(summary=summary, description=description)], stamp=STAMP)
    assert "SUMMARY:Rendez-vous\\; bilan\\, budget \\\\ suite" in text
    vevent = component(parse(text), "VEVENT")[0]
    assert unescape(vevent["SUMMARY"][1]) == summary
    assert unescape(vevent["DESCRIPTION"][1]) == description


def test_utc_times_end_with_z():
    text = ics.calendar([event()], tzid=None, stamp=STAMP)
    vevent = component(parse(text), "VEVENT")[0]
    assert vevent["DTSTART"] == ({}, "20270112T093000Z")
    assert vevent["DTEND"] == ({}, "20270112T101500Z")
    assert vevent["DTSTAMP"] == ({}, "20261101T080000Z")
    assert "VTIMEZONE" not in text


def test_paris_times_carry_tzid_and_a_vtimezone():
    text = ics.calendar([event()], tzid="Europe/Paris", stamp=STAMP)
    lines = parse(text)
    vevent = component(lines, "VEVENT")[0]
    assert vevent["DTSTART"] == ({"TZID": "Europe/Paris"}, "20270112T103000")
    tz = component(lines, "VTIMEZONE")[0]
    assert tz["TZID"][1] == "Europe/Paris"
    assert component(lines, "DAYLIGHT")[0]["TZOFFSETTO"][1] == "+0200"
    assert component(lines, "STANDARD")[0]["TZOFFSETTO"][1] == "+0100"


def test_event_after_the_autumn_change_is_in_winter_time():
    # 25 October 2026: clocks go back at 03:00 CEST (01:00 UTC); 10:00 local is 09:00 UTC.
    start = datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
    text = ics.calendar([event(start=start, duration_minutes=60)], stamp=STAMP)
    lines = parse(text)
    vevent = component(lines, "VEVENT")[0]
    assert vevent["DTSTART"][1] == "20261025T100000"
    standard = component(lines, "STANDARD")[0]
    assert standard["DTSTART"][1] == "20261025T030000"
    assert standard["TZOFFSETFROM"][1] == "+0200"
    # The local time read back with the zone's rules is the same instant.
    local = datetime.strptime(vevent["DTSTART"][1], "%Y%m%dT%H%M%S").replace(
        tzinfo=ZoneInfo("Europe/Paris"))
    assert local.astimezone(UTC) == start


def test_vtimezone_transitions_match_the_zone_database():
    lines = ics.vtimezone("Europe/Paris", {2027})
    text = "\r\n".join(lines) + "\r\n"
    daylight = component(parse(text), "DAYLIGHT")[0]
    assert daylight["DTSTART"][1] == "20270328T020000"


def test_zone_without_daylight_saving_gets_one_standard_component():
    lines = ics.vtimezone("Asia/Tokyo", {2027})
    assert "BEGIN:DAYLIGHT" not in lines
    assert "TZOFFSETTO:+0900" in lines


def test_vevent_has_uid_sequence_and_status():
    text = ics.calendar([event(sequence=2, status="CANCELLED")], stamp=STAMP)
    vevent = component(parse(text), "VEVENT")[0]
    assert vevent["UID"][1] == "abc@alpha.ccas-network"
    assert vevent["SEQUENCE"][1] == "2"
    assert vevent["STATUS"][1] == "CANCELLED"
    end = datetime.strptime(vevent["DTEND"][1], "%Y%m%dT%H%M%S")
    begin = datetime.strptime(vevent["DTSTART"][1], "%Y%m%dT%H%M%S")
    assert end - begin == timedelta(minutes=45)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        ics.calendar([event(start=datetime(2027, 1, 1, 9, 0))], tzid=None)


def test_fold_leaves_short_lines_alone():
    assert ics.fold("SUMMARY:court") == "SUMMARY:court"
