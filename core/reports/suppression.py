"""The funder view of a report: aggregates only, small counts suppressed. Pure.

Rules (statistical confidentiality, applied to a copy of the report):

1. **Primary suppression.** Every count under :data:`THRESHOLD` (5), zero included, is
   shown as :data:`SMALL` (``"< 5"``), and any figure derived from it (its percentage, a
   median or percentile of fewer than 5 delays, an average or a sum over fewer than 5
   loans) is replaced by :data:`HIDDEN`.
2. **Complementary suppression.** In a distribution whose total is published (purposes,
   months, age bands, employment, reorientation destinations, partners, one partner's
   outcomes), a hidden cell must not be recomputable from the total: a distribution never
   has exactly one hidden cell, and its hidden cells together total at least 5; otherwise
   the smallest visible cells are hidden too (shown as :data:`HIDDEN`, with their
   percentage). A partner whose count is hidden has all its outcomes hidden.
3. Plugin sections, whose shape the core does not know: every integer under 5 is shown as
   ``"< 5"``, and when a dict holds such a count its other numeric figures are hidden.
4. **Amounts with their counts.** A dict (a plugin section's, or the report's ``loans``)
   may declare ``"derived_from": {amount key: count key}``: then each amount is hidden
   when the count it derives from is shown as ``"< 5"`` (or missing), whatever its other
   counts; an amount split by key (``{"A": "12.00", "B": …}``) names a dict of counts by
   the same keys, and its cells are hidden like a distribution's (primary and
   complementary, its total being published). Such a dict is not hidden wholesale by
   rule 3: each amount follows its own count.

No list of people ever reaches a report, so there is nothing else to remove.
"""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation

THRESHOLD = 5
SMALL = "< 5"
HIDDEN = "masqué"

RULE = (
    "Secret statistique : tout effectif inférieur à 5 est affiché « < 5 » ; les pourcentages, "
    "délais et montants qui permettraient de le retrouver sont masqués, ainsi que d'autres "
    "cases si nécessaire pour qu'une case masquée ne puisse pas être recalculée à partir "
    "d'un total."
)


def is_small(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value < THRESHOLD


def cells_to_hide(counts: dict, total_published: bool = True) -> tuple[set, set]:
    """``(primary, complementary)`` keys to hide in a distribution of counts."""
    primary = {k for k, v in counts.items() if is_small(v)}
    complementary: set = set()
    if not primary or not total_published:
        return primary, complementary
    order = list(counts)
    visible = sorted((k for k in counts if k not in primary),
                     key=lambda k: (counts[k], order.index(k)))

    def hidden_total() -> int:
        return sum(counts[k] for k in primary | complementary)

    while visible and (len(primary | complementary) == 1 or hidden_total() < THRESHOLD):
        complementary.add(visible.pop(0))
    return primary, complementary


def _mask_counts(counts: dict, total_published: bool = True) -> tuple[dict, set]:
    primary, complementary = cells_to_hide(counts, total_published)
    masked = {
        k: (SMALL if k in primary else HIDDEN if k in complementary else v)
        for k, v in counts.items()
    }
    return masked, primary | complementary


def _small(value):
    return SMALL if is_small(value) else value


def funder_view(report: dict) -> dict:
    """A copy of ``report`` fit for funders (see the module's rules)."""
    out = copy.deepcopy(report)
    requests = report.get("requests", 0)
    for key in ("requests", "instructions", "granted"):
        if key in out:
            out[key] = _small(out[key])

    if "purpose_counts" in report:
        masked, hidden = _mask_counts(report["purpose_counts"])
        out["purpose_counts"] = masked
        out["purposes"] = {
            k: (HIDDEN if k in hidden or is_small(requests) else v)
            for k, v in report.get("purposes", {}).items()
        }
    if "monthly_requests" in report:
        months = dict(enumerate(report["monthly_requests"]))
        masked, _hidden = _mask_counts(months)
        out["monthly_requests"] = [masked[i] for i in range(len(months))]

    for dimension in ("age", "employment"):
        values = (report.get("applicants") or {}).get(dimension)
        if values is not None:
            out["applicants"][dimension] = _mask_counts(values)[0]

    for key, stats in (report.get("delays") or {}).items():
        if is_small(stats.get("count")):
            out["delays"][key] = {"count": SMALL, "median": HIDDEN, "p90": HIDDEN}

    if "reorientations" in report:
        reo = report["reorientations"]
        out["reorientations"] = {
            "total": _small(reo.get("total", 0)),
            "by_destination": _mask_counts(reo.get("by_destination", {}))[0],
        }

    if "interviews" in report:
        iv = report["interviews"]
        out["interviews"] = {
            "cases": _small(iv.get("cases", 0)), "total": _small(iv.get("total", 0)),
            "average": HIDDEN if is_small(iv.get("cases", 0)) else iv.get("average"),
            "by_count": _mask_counts(iv.get("by_count", {}))[0],
        }

    if "partners" in report:
        out["partners"] = _partners(report["partners"])

    if "loans" in report:
        out["loans"] = _loans(report["loans"])

    if "sections" in report:
        out["sections"] = {
            name: {**section, "data": _generic(section.get("data", {})),
                   "figures": figures_view(section.get("figures") or [])}
            for name, section in report["sections"].items()
        }
    out["suppressed"] = True
    out["suppression_rule"] = RULE
    return out


def _partners(partners: dict) -> dict:
    by_partner = partners.get("by_partner", {})
    totals = {name: entry.get("cases", 0) for name, entry in by_partner.items()}
    masked_totals, hidden = _mask_counts(totals)
    out = {"total": _small(partners.get("total", 0)), "by_partner": {}}
    for name, entry in by_partner.items():
        outcomes = entry.get("outcomes", {})
        if name in hidden:
            masked_outcomes = {o: (SMALL if is_small(n) else HIDDEN) for o, n in outcomes.items()}
        else:
            masked_outcomes = _mask_counts(outcomes)[0]
        new = {"cases": masked_totals[name], "outcomes": masked_outcomes}
        if "referrals" in entry:
            new["referrals"] = {
                direction: _mask_counts(statuses, total_published=False)[0]
                for direction, statuses in entry["referrals"].items()
            }
        out["by_partner"][name] = new
    return out


def figures_view(figures: list[dict]) -> list[dict]:
    """A section's typed figures for funders: the counts of each group masked like a
    distribution (rules 1 and 2), and a money, percent or days figure hidden when the
    count it derives from (its ``basis``) is under 5, or unknown."""
    out = [dict(f) for f in figures]
    groups: dict[str, dict[int, int]] = {}
    for i, figure in enumerate(out):
        value = figure.get("value")
        if figure.get("kind", "count") == "count" and isinstance(value, int) \
                and not isinstance(value, bool):
            groups.setdefault(figure.get("group", ""), {})[i] = figure["value"]
    for counts in groups.values():
        for i, masked in _mask_counts(counts, total_published=len(counts) > 1)[0].items():
            out[i]["value"] = masked
    for figure in out:
        if figure.get("kind") in ("money", "percent", "days") and figure.get("value") is not None:
            basis = figure.get("basis")
            if basis is None or is_small(basis):
                figure["value"] = HIDDEN
    return out


def _loans(loans: dict) -> dict:
    """Counts under 5 shown as ``"< 5"``; the amounts and averages hidden when fewer than 5
    loans were granted (a sum over 1 loan is that person's loan), and every amount a
    lender plugin gives with its count (rule 4) hidden with it."""
    out = {k: (_generic(v) if isinstance(v, (dict, list)) else _small(v))
           for k, v in loans.items()}
    count = loans.get("count")
    derived = loans.get("derived_from") or {}
    if is_small(count):
        for key in ("amount_lent", "average_amount", "average_months"):
            if loans.get(key) is not None and key not in derived:
                out[key] = HIDDEN
    _hide_derived(loans, out)
    return out


def _hide_derived(original: dict, out: dict) -> None:
    """Rule 4 on ``out`` (the masked copy of ``original``)."""
    for amount_key, count_key in (original.get("derived_from") or {}).items():
        if amount_key not in original or original[amount_key] is None:
            continue
        amount, count = original[amount_key], original.get(count_key)
        if isinstance(amount, dict):
            counts = count if isinstance(count, dict) else {}
            masked, hidden = _mask_counts({k: counts.get(k, 0) for k in amount})
            out[amount_key] = {k: (HIDDEN if k in hidden else v) for k, v in amount.items()}
            if isinstance(count, dict):
                out[count_key] = {**count, **masked}
        elif not isinstance(count, int) or isinstance(count, bool) or is_small(count):
            out[amount_key] = HIDDEN


def _is_figure(value) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float, Decimal)):
        return True
    if isinstance(value, str):
        try:
            Decimal(value)
        except InvalidOperation:
            return False
        return True
    return False


def _generic(data):
    """Plugin data: integers under 5 -> ``"< 5"``; a dict holding one hides its other
    numeric figures too."""
    if isinstance(data, list):
        return [_generic(v) for v in data]
    if not isinstance(data, dict):
        return _small(data)
    # amounts declared with their counts follow them (rule 4), not the whole dict
    has_small = "derived_from" not in data and any(is_small(v) for v in data.values())
    out = {}
    for key, value in data.items():
        if isinstance(value, (dict, list)):
            out[key] = _generic(value)
        elif is_small(value):
            out[key] = SMALL
        elif has_small and _is_figure(value) and key not in ("year",):
            out[key] = HIDDEN
        else:
            out[key] = value
    _hide_derived(data, out)
    return out
