"""Jinja filters: money and dates the French way, in the tenant's timezone."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, g
from markupsafe import Markup

from .. import clock, formats, labels, workflow

# The tone of a badge (its colour, always beside its words) per referral status; a case
# state's tone is its outcome (``CaseState.outcome``).
REFERRAL_TONES = {"accepted": "granted", "granted": "granted", "declined": "refused",
                  "refused": "refused", "expired": "abandoned", "abandoned": "abandoned",
                  "closed": "abandoned", "reoriented": "reoriented"}


def format_money(value) -> str:
    """``Decimal('1234.5')`` -> ``'1 234,50 €'`` (``core.formats.money``)."""
    return formats.money(value)


def local_datetime(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    tenant = g.get("tenant")
    return value.astimezone(clock.zone(tenant))


def format_datetime(value: datetime | None) -> str:
    local = local_datetime(value)
    return local.strftime("%d/%m/%Y %H:%M") if local else ""


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_datetime(value)
    return value.strftime("%d/%m/%Y")


_BADGE = Markup('<span class="badge badge-%s">%s</span>')


def badge(text: str, tone: str) -> Markup:
    # the same markup as ``Markup(...).format(tone, text)``, without the formatter's
    # machinery (a list page draws a badge per row)
    return _BADGE % (tone, text)  # ``%`` on Markup escapes both


def state_badge(code) -> Markup:
    """A case state as a badge: its French label, coloured by its outcome."""
    state = workflow.current().states.get(str(code))
    if state is None:
        return badge(labels.label("case_state", code), "in_progress")
    return badge(state.label, state.outcome)


def referral_badge(code) -> Markup:
    tone = REFERRAL_TONES.get(str(code), "in_progress")
    return badge(labels.label("referral_status", code), tone)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["state_badge"] = state_badge
    app.jinja_env.globals["referral_badge"] = referral_badge
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["datetime_fr"] = format_datetime
    app.jinja_env.filters["date_fr"] = format_date
    app.jinja_env.filters["percent"] = formats.percent
    app.jinja_env.filters["number"] = formats.number
    app.jinja_env.filters["label"] = lambda code, vocabulary: labels.label(vocabulary, code)
