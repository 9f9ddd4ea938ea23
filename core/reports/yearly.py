"""The yearly review ("bilan"): one JSON-ready dict built from the SQL aggregates.

:func:`build_report` asks ``queries`` for the counts and the enabled plugins for their
sections; the helpers below it are pure (percentages, percentiles, loans mapping).
Money is a ``Decimal`` in the dict (``export`` writes it as a string in JSON).
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict
from decimal import Decimal
from fractions import Fraction

from .. import plugins, referrals, workflow
from ..workflow import reasons
from . import definitions as d
from . import queries

log = logging.getLogger(__name__)


def build_report(session, tenant, year: int, with_sections: bool = True,
                 flow=None) -> dict:
    """The yearly review of ``tenant`` for ``year`` (the session is tenant-scoped; the
    tenant's ``flow``, the current workflow by default, gives the milestones of the
    delays and the outcome of each state)."""
    flow = flow or workflow.current()
    period = queries.Period.of(year, getattr(tenant, "timezone", None) or "Europe/Paris")
    head = queries.headline(session, period)
    counts = queries.purpose_counts(session, period)
    profile = queries.applicants(session, period)
    sections = plugin_sections(session, tenant, year) if with_sections else {}
    loans = loans_figures(queries.granted_loans(session, period), sections)
    partners = partners_figures(
        queries.partner_cases(session, period, flow), queries.partner_referrals(session, period)
    )
    reorientations = queries.reorientations(session, period)
    return {
        "tenant": tenant.slug,
        "tenant_name": tenant.name,
        "year": year,
        "requests": head["requests"],
        "instructions": head["instructions"],
        "granted": head["granted"],
        "purposes": percentages(counts, head["requests"], d.PURPOSES),
        "purpose_counts": {p: counts.get(p, 0) for p in d.PURPOSES},
        "monthly_requests": queries.monthly_requests(session, period),
        "applicants": {
            "age": {key: profile["age"].get(key, 0)
                    for key in (*(b[0] for b in d.AGE_BANDS), d.AGE_UNKNOWN)},
            "employment": {key: profile["employment"].get(key, 0)
                           for key in d.EMPLOYMENT_KEYS},
        },
        "delays": {key: histogram_stats(hist)
                   for key, hist in queries.delay_histograms(session, period, flow).items()},
        "delay_labels": {key: label for key, _a, _b, label in flow.delays()},
        "reorientations": {
            "total": sum(reorientations.values()),
            "by_destination": dict(sorted(reorientations.items(), key=lambda kv: -kv[1])),
            "labels": destination_labels(session, reorientations),
        },
        "interviews": interviews_figures(queries.interviews_per_case(session, period)),
        "partners": partners,
        "outcome_labels": reasons.reasons(tenant, "outcome"),
        "loans": loans,
        "sections": {name: {"title": s.title, "data": s.data,
                            "figures": [asdict(f) for f in s.figures]}
                     for name, s in sections.items()},
    }


def destination_labels(session, codes) -> dict[str, str]:
    """The reorientation destinations of the review in words (``org:<id>`` → its name)."""
    known = workflow.destinations()
    return {code: referrals.destination_label(session, code, known) if code else
            "Non précisée" for code in codes}


def plugin_sections(session, tenant, year: int) -> dict:
    """``{section name: ReportSection}`` from every enabled plugin (a failing plugin is
    logged and left out, it does not break the review)."""
    sections = plugins.hooks().ccas_report_sections.answers(tenant=tenant, year=year,
                                                             session=session)
    by_name = {section.name: section for section in sections.values()}
    return dict(sorted(by_name.items()))


# -- pure helpers ---------------------------------------------------------------------------


def percentages(counts: dict[str, int], total: int, keys) -> dict[str, float]:
    """Shares in percent with one decimal, largest-remainder rounding (they add up to
    exactly 100.0 when ``total`` > 0; ties go to the earlier key of ``keys``)."""
    keys = list(keys)
    if not total:
        return {k: 0.0 for k in keys}
    exact = {k: Fraction(counts.get(k, 0) * 1000, total) for k in keys}
    tenths = {k: math.floor(v) for k, v in exact.items()}
    missing = 1000 - sum(tenths.values())
    order = sorted(keys, key=lambda k: (-(exact[k] - tenths[k]), keys.index(k)))
    for k in order[:max(missing, 0)]:
        tenths[k] += 1
    return {k: tenths[k] / 10 for k in keys}


def histogram_stats(histogram: dict[int, int]) -> dict:
    """``{"count", "median", "p90"}`` of a ``{value: frequency}`` histogram; median is the
    mean of the two middle values for an even count, p90 the nearest-rank value."""
    n = sum(histogram.values())
    if n == 0:
        return {"count": 0, "median": None, "p90": None}
    values = sorted(histogram.items())

    def at_rank(rank: int) -> int:  # 1-based rank in the sorted values
        seen = 0
        for value, freq in values:
            seen += freq
            if seen >= rank:
                return value
        return values[-1][0]

    middle = (at_rank(n // 2) + at_rank(n // 2 + 1)) / 2
    median = float(at_rank((n + 1) // 2)) if n % 2 else middle
    return {"count": n, "median": median, "p90": at_rank(math.ceil(0.9 * n))}


def loans_figures(computed: dict, sections: dict) -> dict:
    """The report's ``loans``: the lender plugin's ``data["loans"]`` when a section gives
    one (missing keys completed from the granted transitions), else the transitions'
    figures; keys no source can give are ``None``."""
    out: dict = {key: None for key in d.LOAN_KEYS}
    out.update(computed)
    out["source"] = "transitions"
    for name, section in sections.items():
        data = getattr(section, "data", None) or {}
        if isinstance(data.get("loans"), dict):
            out.update({d.LOAN_KEY_ALIASES.get(k, k): v for k, v in data["loans"].items()})
            if isinstance(out.get("derived_from"), dict):  # the amounts under their new keys
                out["derived_from"] = {d.LOAN_KEY_ALIASES.get(a, a): d.LOAN_KEY_ALIASES.get(c, c)
                                       for a, c in out["derived_from"].items()}
            out["source"] = name
            break
    return out


def interviews_figures(per_case: dict[int, int]) -> dict:
    """Interviews per evaluated request: cases by number of interviews (0, 1, 2, 3, 4 or
    more), the total and the average (pure)."""
    cases = sum(per_case.values())
    total = sum(n * count for n, count in per_case.items())
    bands = {"0": 0, "1": 0, "2": 0, "3": 0, "4+": 0}
    for n, count in per_case.items():
        bands["4+" if n >= 4 else str(n)] += count
    return {"cases": cases, "total": total,
            "average": round(total / cases, 1) if cases else None, "by_count": bands}


def partners_figures(cases_by_partner: dict, referrals: dict | None) -> dict:
    """``{"total": n, "by_partner": {name: {"cases": n, "outcomes": {…}, "referrals": …}}}``."""
    names = set(cases_by_partner) | set(referrals or {})
    by_partner = {}
    for name in sorted(names):
        outcomes = cases_by_partner.get(name, {})
        entry = {
            "cases": sum(outcomes.values()),
            "outcomes": {o: outcomes.get(o, 0) for o in d.OUTCOMES},
        }
        if referrals is not None:
            entry["referrals"] = referrals.get(name, {"received": {}, "sent": {}})
        by_partner[name] = entry
    return {
        "total": sum(e["cases"] for e in by_partner.values()),
        "by_partner": by_partner,
    }


def to_jsonable(value):
    """Decimals as strings (exact), everything else JSON-ready as it is."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value
