"""Numbers, money, percents, days and plurals written the French way: one set of pure
functions for the pages, the PDFs, the CSV/XLSX exports, the e-mails and the command line.

Thousands are grouped with a narrow no-break space, decimals follow a comma, the euro and
percent signs follow a no-break space: ``1 234,56 €``, ``3,04 %``, ``04/12/2026``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

THIN = "\u202f"  # narrow no-break space: between groups of thousands
NBSP = "\u00a0"  # no-break space: before € and %
EMPTY = "—"


def _decimal(value) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def number(value, decimals: int = 0) -> str:
    """``1234`` → ``"1 234"``; ``57.04`` with ``decimals=1`` → ``"57,0"``; a value that
    is no number (a suppressed figure, ``"< 5"``) is returned as it is, ``None`` as ``—``."""
    figure = _decimal(value)
    if figure is None:
        return EMPTY if value is None else str(value)
    step = Decimal(1).scaleb(-decimals)
    rounded = figure.quantize(step, rounding=ROUND_HALF_UP)
    units, _, fraction = f"{abs(rounded):f}".partition(".")
    groups = []
    while units:
        groups.insert(0, units[-3:])
        units = units[:-3]
    sign = "-" if rounded < 0 else ""
    return f"{sign}{THIN.join(groups)}{',' + fraction if fraction else ''}"


def money(value) -> str:
    """``Decimal("1234.5")`` → ``"1 234,50 €"``; ``None`` → ``""``."""
    if value is None:
        return ""
    if _decimal(value) is None:
        return str(value)
    return f"{number(value, 2)}{NBSP}€"


def percent(value, decimals: int = 2) -> str:
    """``Decimal("3.04")`` → ``"3,04 %"`` (the value is already a percentage)."""
    if value is None:
        return EMPTY
    if _decimal(value) is None:
        return str(value)
    return f"{number(value, decimals)}{NBSP}%"


def day(value: date | datetime | None) -> str:
    """``date(2026, 12, 4)`` → ``"04/12/2026"`` (a datetime: convert it to the tenant's
    zone first)."""
    return value.strftime("%d/%m/%Y") if value else ""


def plural(count: int, one: str, many: str) -> str:
    """``plural(1, "adulte", "adultes")`` → ``"1 adulte"``; ``0`` and ``1`` are singular
    in French."""
    return f"{number(count)} {one if abs(count) < 2 else many}"
