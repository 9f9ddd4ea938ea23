"""SVG charts of the yearly review. Pure: data in, SVG text out (no JavaScript, no style
attributes, so they pass the CSP inline and in exported files).

Accessible: ``role="img"`` with ``aria-labelledby`` pointing at a ``<title>`` and a
``<desc>`` that lists every value in words; every bar carries its label and its value
as text, so nothing is said by colour alone. Suppressed values (funder view: ``"< 5"``,
``"masqué"``) are drawn as no bar with their text.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from .. import formats
from . import definitions as d

BAR_COLOUR = "#1f5f8b"
TEXT_COLOUR = "#1a1a1a"
FONT = 'font-family="sans-serif" font-size="13"'


def _number(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return None


def fr_number(value, decimals: int = 0) -> str:
    """``57.0`` -> ``"57,0"`` (:func:`core.formats.number`); text values (suppressed)
    unchanged."""
    return formats.number(value, decimals)


def _open(chart_id: str, title: str, desc: str, width: int, height: int) -> list[str]:
    tid, did = f"{chart_id}-titre", f"{chart_id}-desc"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id={quoteattr(chart_id)} '
        f'role="img" aria-labelledby="{tid} {did}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}">',
        f"<title id={quoteattr(tid)}>{escape(title)}</title>",
        f"<desc id={quoteattr(did)}>{escape(desc)}</desc>",
    ]


#: Width of a character of the labels at 13 px, a little above DejaVu Sans's average (a
#: label is never cut: a long one widens the label column, the drawing scales to the page).
CHAR_WIDTH = 7.6


def _label_width(rows) -> int:
    """The label column: 210 px, or as wide as the longest label needs."""
    longest = max((len(str(label)) for label, _v, _t in rows), default=0)
    return max(210, round(16 + CHAR_WIDTH * longest))


def horizontal_bars(chart_id: str, title: str, rows: list[tuple[str, object, str]],
                    maximum: float | None = None) -> str:
    """Bars for ``rows`` of ``(label, value, value text)``; ``maximum`` scales the bars
    (defaults to the largest value)."""
    label_w, bar_w, value_w, row_h, top = _label_width(rows), 330, 110, 30, 10
    width = label_w + bar_w + value_w
    height = top * 2 + row_h * max(len(rows), 1)
    numbers = [n for n in (_number(v) for _l, v, _t in rows) if n is not None]
    scale = maximum if maximum else (max(numbers) if numbers else 0)
    desc = " ; ".join(f"{label} : {text}" for label, _v, text in rows) or "Aucune donnée."
    parts = _open(chart_id, title, desc, width, height)
    for i, (label, value, text) in enumerate(rows):
        y = top + i * row_h
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end" fill="{TEXT_COLOUR}" '
            f"{FONT}>{escape(label)}</text>"
        )
        number = _number(value)
        length = 0 if not number or not scale else max(1, round(bar_w * number / scale))
        if length:
            parts.append(
                f'<rect class="chart-bar" x="{label_w}" y="{y + 5}" width="{length}" '
                f'height="{row_h - 10}" fill="{BAR_COLOUR}"/>'
            )
        parts.append(
            f'<text x="{label_w + length + 6}" y="{y + 19}" fill="{TEXT_COLOUR}" '
            f"{FONT}>{escape(text)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def purposes_chart(purposes: dict, year: int, chart_id: str = "graphique-objets") -> str:
    """Share of the year's requests by purpose (percent)."""
    rows = []
    for key in d.PURPOSES:
        value = purposes.get(key)
        text = formats.percent(value, 1) if _number(value) is not None else fr_number(value)
        rows.append((d.PURPOSE_REPORT_LABELS.get(key, key), value, text))
    return horizontal_bars(chart_id, f"Objets des demandes en {year} (en %)", rows, 100.0)


def funnel_chart(requests, instructions, granted, year: int,
                 chart_id: str = "graphique-entonnoir") -> str:
    """Requests → instructions → granted of the year, with each step's share of requests."""
    rows = []
    base = _number(requests)
    for label, value in (("Demandes", requests), ("Instructions", instructions),
                         ("Prêts accordés", granted)):
        text = fr_number(value)
        number = _number(value)
        if base and number is not None and label != "Demandes":
            text += f" ({formats.percent(100 * number / base, 1)})"
        rows.append((label, value, text))
    return horizontal_bars(
        chart_id, f"Des demandes aux prêts accordés en {year}", rows, base or None
    )


def column_chart(chart_id: str, title: str, columns: list[tuple[str, object, str]],
                 col_w: int = 52) -> str:
    """Vertical bars for ``columns`` of ``(label, value, value text)``: the value text above
    each bar, the label under it, every value also said in the description."""
    left, plot_h, top, bottom = 10, 180, 24, 30
    width = left * 2 + col_w * max(len(columns), 1)
    height = top + plot_h + bottom
    numbers = [n for n in (_number(v) for _l, v, _t in columns) if n is not None]
    scale = max(numbers) if numbers else 0
    desc = " ; ".join(f"{label} : {text}" for label, _v, text in columns) or "Aucune donnée."
    parts = _open(chart_id, title, desc, width, height)
    for i, (label, value, text) in enumerate(columns):
        x = left + i * col_w
        number = _number(value)
        bar = 0 if not number or not scale or number < 0 else max(
            1, round(plot_h * number / scale))
        y = top + plot_h - bar
        if bar:
            parts.append(
                f'<rect class="chart-bar" x="{x + 8}" y="{y}" width="{col_w - 16}" '
                f'height="{bar}" fill="{BAR_COLOUR}"/>'
            )
        parts.append(
            f'<text x="{x + col_w / 2:g}" y="{y - 6}" text-anchor="middle" '
            f'fill="{TEXT_COLOUR}" {FONT}>{escape(text)}</text>'
        )
        parts.append(
            f'<text x="{x + col_w / 2:g}" y="{top + plot_h + 20}" text-anchor="middle" '
            f'fill="{TEXT_COLOUR}" {FONT}>{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def monthly_chart(monthly: list, year: int, chart_id: str = "graphique-mois") -> str:
    """Requests per month of the year (vertical bars, value above each bar)."""
    return column_chart(chart_id, f"Demandes par mois en {year}", [
        (d.MONTH_LABELS[i], value, fr_number(value)) for i, value in enumerate(monthly)])


def report_charts(report: dict) -> dict[str, str]:
    """The three charts of a report (full or funder view)."""
    year = report["year"]
    return {
        "purposes": purposes_chart(report.get("purposes", {}), year),
        "monthly": monthly_chart(report.get("monthly_requests", [0] * 12), year),
        "funnel": funnel_chart(report.get("requests"), report.get("instructions"),
                               report.get("granted"), year),
    }
