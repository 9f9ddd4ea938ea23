"""The yearly review pages: the manager's (every figure, charts, comparison with the year
before, exports) and the funders' (aggregates only, small counts suppressed). Neither
ever lists a person."""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, render_template, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from ..cases import local_today
from ..db import db
from ..hookspecs import hookimpl
from ..models import Case
from ..plugins.types import NavItem
from ..policy import FUNDERS, MANAGER, allow
from ..reports import build_report, definitions, funder_view
from ..reports.charts import report_charts
from ..reports.export import FORMATS, MEDIA_TYPES, export, fmt, tables

bp = Blueprint("reports", __name__, url_prefix="/t/<tenant>/bilans")



@hookimpl
def ccas_nav_items():
    return [NavItem("Bilans", "reports.manager", MANAGER, order=80),
            NavItem("Bilan annuel", "reports.funder", FUNDERS, order=80)]


def _years() -> list[int]:
    """Years with requests, up to the current one (most recent first)."""
    this_year = local_today(g.tenant).year
    first = db.session.scalar(select(func.min(Case.intake_date)))
    start = min(first.year, this_year) if first else this_year
    return list(range(this_year, start - 1, -1))


def _year(years: list[int]) -> int:
    raw = request.args.get("annee", "")
    if not raw:
        return years[0]
    if not raw.isdigit() or not 1900 <= int(raw) <= 2200:
        abort(404)
    return int(raw)


def _charts(report: dict) -> dict:
    # our own SVG, every text escaped by core.reports.charts
    return {name: Markup(svg) for name, svg in report_charts(report).items()}  # noqa: S704


def _comparison(current: dict, previous: dict) -> list[dict]:
    rows = []
    for key, label in definitions.HEADLINE_LABELS.items():
        rows.append({"label": label, "current": current[key], "previous": previous[key],
                     "change": _change(current[key], previous[key])})
    for key in definitions.PURPOSES:
        rows.append({
            "label": f"{definitions.PURPOSE_REPORT_LABELS[key]} (%)",
            "current": current["purposes"][key], "previous": previous["purposes"][key],
            "change": None,
        })
    return rows


def _change(now, before) -> str | None:
    if not isinstance(now, int) or not isinstance(before, int) or not before:
        return None
    return f"{(now - before) * 100 / before:+.1f} %".replace(".", ",")


@bp.route("/")
@allow(MANAGER)
def manager():
    years = _years()
    year = _year(years)
    report = build_report(db.session, g.tenant, year)
    previous = build_report(db.session, g.tenant, year - 1, with_sections=False)
    return render_template(
        "reports/manager.html", report=report, tables=tables(report), charts=_charts(report),
        comparison=_comparison(report, previous), years=years, year=year, formats=FORMATS,
        fmt=fmt,
    )


@bp.route("/financeurs")
@allow(MANAGER, FUNDERS)
def funder():
    years = _years()
    year = _year(years)
    report = funder_view(build_report(db.session, g.tenant, year))
    return render_template(
        "reports/funder.html", report=report, tables=tables(report), charts=_charts(report),
        years=years, year=year, formats=FORMATS, fmt=fmt,
    )


@bp.route("/<int:year>.<fmt_name>")
@allow(MANAGER, FUNDERS)
def download(year: int, fmt_name: str):
    """The review as a file; funders (and managers asking ``?vue=financeurs``) get the
    suppressed view."""
    if fmt_name not in FORMATS or not 1900 <= year <= 2200:
        abort(404)
    report = build_report(db.session, g.tenant, year)
    suffix = ""
    if str(current_user.role) == "funder" or request.args.get("vue") == "financeurs":
        report = funder_view(report)
        suffix = "-financeurs"
    content = export(report, fmt_name)
    filename = f"bilan-{g.tenant.slug}-{year}{suffix}.{fmt_name}"
    return Response(content, mimetype=MEDIA_TYPES[fmt_name], headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
    })
