"""Jinja filters: money and dates the French way, in the tenant's timezone."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, g

from .. import clock, formats, labels


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


def init_app(app: Flask) -> None:
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["datetime_fr"] = format_datetime
    app.jinja_env.filters["date_fr"] = format_date
    app.jinja_env.filters["percent"] = formats.percent
    app.jinja_env.filters["number"] = formats.number
    app.jinja_env.filters["label"] = lambda code, vocabulary: labels.label(vocabulary, code)
