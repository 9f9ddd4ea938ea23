"""Representations of a schedule: JSON-ready dict, CSV rows and a plain text table.

Money is written as a string with exactly two decimals ("87.30"), dates as ISO 8601
("2025-02-28"). The APR is rounded half-up to two decimals, like on contracts.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal

from .apr import round_apr
from .schedule import Installment, Schedule

_CENT = Decimal("0.01")
_EXACT = Context(prec=40)

MONEY_COLUMNS = ("payment", "principal", "interest", "balance", "borrower_payment", "subsidy")
CSV_HEADER = ("number", "due_date", *MONEY_COLUMNS)


def format_money(value: Decimal) -> str:
    """A Decimal as a string with two decimals, rounded half-up: "87.30"."""
    return f"{value.quantize(_CENT, rounding=ROUND_HALF_UP, context=_EXACT):f}"


def schedule_to_dict(schedule: Schedule) -> dict[str, object]:
    """JSON-ready dict: money and rates as two-decimal strings, dates as ISO strings."""
    return {
        "amount": format_money(schedule.amount),
        "months": schedule.months,
        "annual_rate": format_money(schedule.annual_rate),
        "method": schedule.method,
        "installment": format_money(schedule.installment),
        "total_interest": format_money(schedule.total_interest),
        "total_cost": format_money(schedule.total_cost),
        "total_subsidy": format_money(schedule.total_subsidy),
        "apr": f"{round_apr(schedule.apr):f}",
        "installments": [_installment_to_dict(row) for row in schedule.installments],
    }


#: Keys of the public JSON form of a schedule (``ccas loan schedule --format json`` and
#: ``GET /api/v1/loans/<id>/schedule``), in this order.
JSON_KEYS = ("amount", "months", "annual_rate", "method", "installment", "total_interest",
             "total_cost", "apr", "installments")


def schedule_json(schedule: Schedule) -> dict[str, object]:
    """The public JSON object of a schedule: :func:`schedule_to_dict` restricted to
    :data:`JSON_KEYS` (the CLI and the API print exactly this)."""
    data = schedule_to_dict(schedule)
    return {key: data[key] for key in JSON_KEYS}


def schedule_to_csv_rows(schedule: Schedule) -> list[list[str]]:
    """Header row then one row per instalment, all strings (for ``csv.writer``)."""
    return [list(CSV_HEADER), *(_installment_cells(row) for row in schedule.installments)]


def schedule_to_table(schedule: Schedule) -> str:
    """Plain text table of the schedule with a summary and a totals line."""
    header = ["#", "Due date", "Payment", "Principal", "Interest", "Balance", "Borrower", "Subsidy"]
    body = [_installment_cells(row) for row in schedule.installments]
    totals = [
        "",
        "Total",
        format_money(_EXACT.add(schedule.amount, schedule.total_interest)),
        format_money(schedule.amount),
        format_money(schedule.total_interest),
        "",
        format_money(schedule.total_borrower_payments),
        format_money(schedule.total_subsidy),
    ]
    widths = [max(len(line[i]) for line in (header, *body, totals)) for i in range(len(header))]

    def render(cells: list[str]) -> str:
        first = cells[0].rjust(widths[0])
        second = cells[1].ljust(widths[1])
        rest = (cell.rjust(width) for cell, width in zip(cells[2:], widths[2:], strict=True))
        return "  ".join([first, second, *rest]).rstrip()

    rule = "  ".join("-" * width for width in widths)
    summary = (
        f"Amount {format_money(schedule.amount)}, {schedule.months} months, "
        f"{schedule.method}, nominal rate {schedule.annual_rate}%, "
        f"subsidised share of interest {schedule.subsidy_share}%, "
        f"fees {format_money(schedule.fees)}, "
        f"APR {round_apr(schedule.apr):f}%, total cost {format_money(schedule.total_cost)}"
    )
    lines = [summary, render(header), rule, *map(render, body), rule, render(totals)]
    return "\n".join(lines) + "\n"


def _installment_to_dict(row: Installment) -> dict[str, object]:
    return {
        "number": row.number,
        "due_date": row.due_date.isoformat(),
        **{name: format_money(getattr(row, name)) for name in MONEY_COLUMNS},
    }


def _installment_cells(row: Installment) -> list[str]:
    return [
        str(row.number),
        row.due_date.isoformat(),
        *(format_money(getattr(row, name)) for name in MONEY_COLUMNS),
    ]
