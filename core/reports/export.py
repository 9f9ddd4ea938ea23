"""Writing a report (full or funder view) as JSON, CSV, XLSX, Markdown or PDF.

:func:`tables` turns the report dict into titled tables (French labels); every format but
JSON writes those tables, so they all show the same figures. Functions return bytes.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from decimal import Decimal

from .. import formats
from . import definitions as d
from .yearly import to_jsonable

FORMATS = ("json", "csv", "xlsx", "md", "pdf")
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "md": "text/markdown; charset=utf-8",
    "pdf": "application/pdf",
}


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list]


def fmt(value, money: bool = False) -> str:
    """A figure the French way, through :mod:`core.formats` like the pages: ``4 838``,
    ``57,0``, ``1 234,50 €``, ``3,04 %``; text unchanged."""
    if value is None:
        return formats.EMPTY
    if isinstance(value, bool):
        return "oui" if value else "non"
    if money or isinstance(value, _Money):
        return formats.money(value)
    if isinstance(value, _Percent):
        return formats.percent(value)
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return formats.number(value, -exponent if isinstance(exponent, int) and exponent < 0
                              else 0)
    if isinstance(value, int):
        return formats.number(value)
    if isinstance(value, float):
        return formats.number(value, 1)
    return str(value)


MONEY_KEYS = {"amount_lent", "average_amount", "portfolio_outstanding", "subsidy_cost",
              "guarantee_calls"}


def tables(report: dict) -> list[Table]:
    """The report as titled tables (raw values; formats format them). A document laid
    out already (a plugin's statement: ``{"title": …, "tables": [Table, …]}``) gives its
    own tables."""
    if "tables" in report:
        return list(report["tables"])
    out = [Table("Synthèse", ["Indicateur", "Valeur"],
                 [[d.HEADLINE_LABELS[k], report.get(k)] for k in d.HEADLINE_LABELS])]
    counts = report.get("purpose_counts", {})
    out.append(Table(
        "Objets des demandes", ["Objet", "Demandes", "Part (%)"],
        [[d.PURPOSE_REPORT_LABELS.get(k, k), counts.get(k), v]
         for k, v in report.get("purposes", {}).items()],
    ))
    out.append(Table(
        "Demandes par mois", ["Mois", "Demandes"],
        [[d.MONTH_LABELS[i], v] for i, v in enumerate(report.get("monthly_requests", []))],
    ))
    applicants = report.get("applicants", {})
    out.append(Table("Âge des demandeurs", ["Tranche d'âge", "Demandes"],
                     [[d.AGE_LABELS.get(k, k), v] for k, v in applicants.get("age", {}).items()]))
    out.append(Table(
        "Situation professionnelle", ["Situation", "Demandes"],
        [[d.EMPLOYMENT_REPORT_LABELS.get(k, k), v]
         for k, v in applicants.get("employment", {}).items()],
    ))
    out.append(Table(
        "Délais (jours)", ["Étape", "Dossiers", "Médiane", "90e centile"],
        [[report.get("delay_labels", {}).get(k, k), s.get("count"), s.get("median"), s.get("p90")]
         for k, s in report.get("delays", {}).items()],
    ))
    reo = report.get("reorientations", {})
    names = reo.get("labels", {})
    out.append(Table(
        "Réorientations", ["Destination", "Dossiers"],
        [[names.get(k) or "Autre destination", v] for k, v in reo.get("by_destination", {}).items()]
        + [["Total", reo.get("total")]],
    ))
    interviews = report.get("interviews") or {}
    if interviews:
        out.append(Table(
            "Entretiens par demande évaluée", ["Entretiens", "Demandes"],
            [[k, v] for k, v in (interviews.get("by_count") or {}).items()]
            + [["Demandes évaluées", interviews.get("cases")],
               ["Entretiens", interviews.get("total")],
               ["Moyenne par demande", interviews.get("average")]],
        ))
    partners = report.get("partners", {})
    out.append(Table(
        "Orientations par les partenaires",
        ["Partenaire", "Demandes", *(d.OUTCOME_LABELS[o] for o in d.OUTCOMES)],
        [[name, e.get("cases"), *(e.get("outcomes", {}).get(o) for o in d.OUTCOMES)]
         for name, e in partners.get("by_partner", {}).items()]
        + [["Total", partners.get("total"), *([None] * len(d.OUTCOMES))]],
    ))
    labels = report.get("outcome_labels") or {}
    outcomes = {name: e["referrals"]["outcomes"]
                for name, e in partners.get("by_partner", {}).items()
                if (e.get("referrals") or {}).get("outcomes")}
    if outcomes:
        codes = sorted({code for counts in outcomes.values() for code in counts},
                       key=lambda c: (c not in labels, list(labels).index(c)
                                      if c in labels else 0, c))
        out.append(Table(
            "Suites données par les partenaires",
            ["Partenaire", *(labels.get(c, c) for c in codes)],
            [[name, *(counts.get(c, 0) for c in codes)]
             for name, counts in sorted(outcomes.items())],
        ))
    loans = report.get("loans", {})
    out.append(Table(
        "Prêts", ["Indicateur", "Valeur"],
        [[label, _money_or(key, loans.get(key))] for key, label in d.LOAN_LABELS.items()
         if key in loans],
    ))
    if isinstance(loans.get("ageing"), dict):
        out.append(Table(
            "Prêts en retard par ancienneté", ["Retard", "Prêts", "Capital restant dû"],
            [[d.AGEING_LABELS.get(k, k), b.get("count"), _money_or("amount_lent", b.get(
                "outstanding"))] for k, b in loans["ageing"].items()],
        ))
    for name, section in report.get("sections", {}).items():
        figures = section.get("figures") or []
        out.append(Table(
            section.get("title") or name, ["Indicateur", "Valeur"],
            [[f"{f['group']} – {f['label']}" if f.get("group") else f["label"], _typed(f)]
             for f in figures]
            or [[key, value] for key, value in _flatten(section.get("data", {}))],
        ))
    return out


class _Percent(Decimal):
    """Marks a percentage (``3,04 %``)."""


def _typed(figure: dict):
    """A section's figure with its format: money and percents marked, text as it is."""
    value, kind = figure.get("value"), figure.get("kind")
    if value is None or isinstance(value, str) and not _is_number(value):
        return value
    if kind == "money":
        return _Money(str(value))
    if kind == "percent":
        return _Percent(str(value))
    if kind == "days":
        return Decimal(str(value))
    return value


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


class _Money(Decimal):
    """Marks an amount that must be shown as money."""


def _money_or(key, value):
    if key in MONEY_KEYS and value is not None:
        try:
            return _Money(str(value))
        except ArithmeticError:
            return value
    return value


def _flatten(data, prefix: str = ""):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _flatten(value, f"{prefix} / {key}" if prefix else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _flatten(value, f"{prefix} [{i + 1}]")
    else:
        yield prefix, data


def title_of(report: dict) -> str:
    if report.get("title"):
        return report["title"]
    name = report.get("tenant_name") or report.get("tenant")
    view = " (vue financeurs)" if report.get("suppressed") else ""
    return f"Bilan {report['year']} du microcrédit personnel – {name}{view}"


# -- formats ---------------------------------------------------------------------------------


def to_json(report: dict) -> bytes:
    return json.dumps(to_jsonable(report), ensure_ascii=False, indent=2).encode("utf-8")


def to_csv(report: dict) -> bytes:
    """Long format, for French spreadsheets: ``rubrique;élément;mesure;valeur`` (UTF-8
    with BOM, semicolons, decimal commas)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["rubrique", "élément", "mesure", "valeur"])
    for table in tables(report):
        for row in table.rows:
            for header, value in zip(table.headers[1:], row[1:], strict=False):
                writer.writerow([table.title, row[0], header, _csv_value(value)])
    if report.get("suppressed"):
        writer.writerow(["Note", "", "", report.get("suppression_rule", "")])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def table_csv(table: Table) -> bytes:
    """One table as a flat CSV for French spreadsheets: its headers, then a line per row
    (UTF-8 with BOM, semicolons, decimal commas)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_csv_value(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def money_cell(value):
    """An amount shown as money in every format (``1 234,50 €``, XLSX currency)."""
    return _money_or("amount_lent", value)


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, (int, float, Decimal)):
        return str(value).replace(".", ",")
    return str(value)


def _sheet_title(title: str, used: set) -> str:
    clean = "".join(c for c in title if c not in "[]:*?/\\")[:31]
    base, n = clean, 2
    while clean in used:
        suffix = f" ({n})"
        clean = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(clean)
    return clean


def to_xlsx(report: dict) -> bytes:
    # deferred: openpyxl takes about 0.16 s to import; only the XLSX needs it
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    used: set = set()
    first = True
    for table in tables(report):
        sheet = workbook.active if first else workbook.create_sheet()
        first = False
        sheet.title = _sheet_title(table.title, used)
        sheet.append([title_of(report)])
        sheet["A1"].font = Font(bold=True)
        sheet.append([table.title])
        sheet.append(table.headers)
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_xlsx_value(v) for v in row])
            for cell, value in zip(sheet[sheet.max_row], row, strict=False):
                if isinstance(value, _Money):
                    cell.number_format = '#,##0.00 "€"'
                elif isinstance(value, float):
                    cell.number_format = "0.0"
        sheet.column_dimensions["A"].width = 42
        for letter in "BCDEFG":
            sheet.column_dimensions[letter].width = 16
        if report.get("suppressed"):
            sheet.append([])
            sheet.append([report.get("suppression_rule", "")])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_value(value):
    if isinstance(value, Decimal):
        return Decimal(value)
    if isinstance(value, (int, float, str)) or value is None:
        return value
    return str(value)


def to_markdown(report: dict) -> bytes:
    lines = [f"# {title_of(report)}", ""]
    if report.get("suppressed"):
        lines += [f"> {report.get('suppression_rule', '')}", ""]
    for table in tables(report):
        lines += [f"## {table.title}", ""]
        lines.append("| " + " | ".join(table.headers) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(table.headers) - 1)) + "|")
        for row in table.rows:
            cells = [fmt(v).replace("|", "\\|") for v in row]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines).encode("utf-8")


_PDF_REPLACEMENTS = {
    "\u202f": " ", "\u00a0": " ", "–": "-", "—": "-", "→": "->", "’": "'", "€": "EUR",
    "«": '"', "»": '"', "…": "...", "≤": "<=", "≥": ">=",
}


def _latin1(text: str) -> str:
    for old, new in _PDF_REPLACEMENTS.items():
        text = text.replace(old, new)
    return text.encode("latin-1", "replace").decode("latin-1")


def to_pdf(report: dict) -> bytes:
    """A4 PDF with the same tables (core Helvetica font: no font file to ship)."""
    # deferred: fpdf2 takes about 0.3 s to import; only the PDF needs it
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(title_of(report)))
    pdf.set_author("ccas-network")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 14)
    pdf.multi_cell(0, 8, _latin1(title_of(report)), new_x="LMARGIN", new_y="NEXT")
    if report.get("suppressed"):
        pdf.set_font("helvetica", "I", 8)
        pdf.multi_cell(0, 4, _latin1(report.get("suppression_rule", "")),
                       new_x="LMARGIN", new_y="NEXT")
    for table in tables(report):
        pdf.ln(3)
        pdf.set_font("helvetica", "B", 11)
        pdf.cell(0, 7, _latin1(table.title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", "", 8)
        first = 2 if len(table.headers) <= 4 else 1.6
        widths = (first,) + (1,) * (len(table.headers) - 1)
        with pdf.table(col_widths=widths, text_align="LEFT", line_height=5,
                       first_row_as_headings=True) as pdf_table:
            header = pdf_table.row()
            for text in table.headers:
                header.cell(_latin1(text))
            for row in table.rows:
                cells = pdf_table.row()
                for value in row:
                    cells.cell(_latin1(fmt(value)))
    return bytes(pdf.output())


WRITERS = {"json": to_json, "csv": to_csv, "xlsx": to_xlsx, "md": to_markdown, "pdf": to_pdf}


def export(report: dict, fmt_name: str) -> bytes:
    if fmt_name not in WRITERS:
        raise ValueError(f"format inconnu : {fmt_name!r} (attendu : {', '.join(FORMATS)})")
    return WRITERS[fmt_name](report)
