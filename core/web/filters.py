"""Jinja filters: money and dates the French way, in the tenant's timezone."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from flask import Flask, g

from .. import clock


def format_money(value) -> str:
    """``Decimal('1234.5')`` -> ``'1 234,50 €'`` (narrow no-break space as separator)."""
    if value is None:
        return ""
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    units, cents = f"{abs(amount):.2f}".split(".")
    groups = []
    while units:
        groups.insert(0, units[-3:])
        units = units[:-3]
    thin, nbsp = "\u202f", "\u00a0"
    return f"{sign}{thin.join(groups)},{cents}{nbsp}€"


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
