"""Helpers shared by partner plugins (exported by ``core.plugin_api``).

What two plugins would otherwise copy lives here: matching settings keywords against a
project text, reading the household, naming the organisation a plugin represents, and
counting the flows between the CCAS and that organisation for the yearly review.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from .. import clock, labels, organisation_list
from ..cases import budget
from ..models import (
    RESOURCE_CATEGORIES,
    BudgetLine,
    Case,
    CaseSuggestion,
    CaseTransition,
    Organisation,
    Referral,
    Synthesis,
)
from ..referrals import ORG_DESTINATION_PREFIX
from .types import Destination, Figure

# -- text ------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s'’‘`\-_/.,;:!?()«»\"]+")


def normalise_text(text: str | None) -> str:
    """Lower case, accents removed, apostrophes/hyphens/punctuation as single spaces:
    ``"Création d’activité"`` → ``"creation d activite"``."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return _SEPARATORS.sub(" ", plain).strip()


def keywords_found(text: str | None, keywords) -> list[str]:
    """The ``keywords`` that occur in ``text`` as whole words (a plural ``s``/``x`` is
    allowed), ignoring case, accents, hyphens and apostrophes. Returned as given, in the
    order of ``keywords``."""
    haystack = f" {normalise_text(text)} "
    found = []
    for keyword in keywords or []:
        needle = normalise_text(keyword)
        if needle and re.search(rf" {re.escape(needle)}[sx]? ", haystack):
            found.append(keyword)
    return found


# -- household -------------------------------------------------------------------------


def has_children(person) -> bool:
    """A family, in the sense of family benefits: at least one child in the household."""
    return bool(getattr(person, "children_ages", None))


def age_on(born: date | None, day: date) -> int | None:
    """Age in whole years on ``day`` of someone born on ``born`` (``None``: unknown)."""
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass(frozen=True)
class HouseholdFacts:
    """What "other aids first" rules read of a case, as plain data (rules stay pure).

    ``None`` means unknown: no birth date, no employment recorded, no budget sheet yet.
    ``monthly_resources`` is the total of the budget's resources when the sheet has some,
    else the monthly resources noted at intake. ``budget_resources`` and
    ``budget_charges`` are the categories the budget sheet shows with an amount (codes of
    ``RESOURCE_CATEGORIES`` / ``CHARGE_CATEGORIES``), ``None`` when there is no sheet.
    """

    purpose: str
    age: int | None = None
    adults: int = 1
    children_ages: tuple[int, ...] = ()
    employment: str | None = None
    monthly_resources: Decimal | None = None
    budget_resources: frozenset[str] | None = None
    budget_charges: frozenset[str] | None = None
    postal_code: str | None = None

    @property
    def family(self) -> bool:
        return bool(self.children_ages)

    @property
    def consumption_units(self) -> Decimal:
        """OECD-modified units of the household (``core.cases.budget``)."""
        return budget.consumption_units(self.adults, self.children_ages)

    @property
    def resources_per_unit(self) -> Decimal | None:
        """Monthly resources per consumption unit (a quotient), ``None`` when unknown."""
        if self.monthly_resources is None:
            return None
        return (self.monthly_resources / self.consumption_units).quantize(Decimal("0.01"))


def synthesis_text(session, case) -> str:
    """The social worker's current synthesis of the case (its four subjects, one after the
    other), ``""`` when none is written: for rules that look for words in it. Quote the
    rule's own words in a ``why``, never this text."""
    row = session.scalar(select(Synthesis).where(Synthesis.case_id == case.id)
                         .order_by(Synthesis.number.desc()).limit(1))
    if row is None:
        return ""
    return "\n".join(t for t in (row.request, row.project, row.resources, row.prospects) if t)


def household_facts(session, case) -> HouseholdFacts:
    """The :class:`HouseholdFacts` of ``case`` (its person, household and budget sheet),
    ages on the day of the request."""
    person = case.person
    lines = {line.category: line.amount for line in session.scalars(
        select(BudgetLine).where(BudgetLine.case_id == case.id))
        if line.amount is not None and line.amount > 0}
    resources = {c: v for c, v in lines.items() if c in RESOURCE_CATEGORIES}
    charges = {c: v for c, v in lines.items() if c not in RESOURCE_CATEGORIES}
    monthly = sum(resources.values(), Decimal(0)) if resources else person.monthly_resources
    employment = getattr(person.employment, "value", person.employment)
    return HouseholdFacts(
        purpose=str(getattr(case.purpose, "value", case.purpose)),
        age=age_on(person.birth_date, case.intake_date),
        adults=int(person.adults or 1),
        children_ages=tuple(int(a) for a in (person.children_ages or [])),
        employment=str(employment) if employment else None,
        monthly_resources=Decimal(monthly) if monthly is not None else None,
        budget_resources=frozenset(resources) if lines else None,
        budget_charges=frozenset(charges) if lines else None,
        postal_code=(person.postal_code or "").strip() or None,
    )


# -- partner organisations -------------------------------------------------------------


def organisation_of_plugin(session, plugin_name: str):
    """The tenant's organisation represented by plugin ``plugin_name`` (or ``None``)."""
    known = organisation_list.organisations(session)
    if known is not None:  # gathering destinations: the list read once (by name)
        return next((o for o in known if o.plugin_name == plugin_name), None)
    return session.scalar(
        select(Organisation).where(Organisation.plugin_name == plugin_name)
        .order_by(Organisation.name).limit(1)
    )


def organisation_destination_code(organisation) -> str:
    """The reorientation code of a partner organisation (``org:<id>``): reorienting a case
    there also sends that organisation a referral (``core.referrals``)."""
    return f"{ORG_DESTINATION_PREFIX}{organisation.id}"


def plugin_destination(session, plugin_name: str, code: str, label: str,
                       default_organisation: str) -> Destination:
    """A reorientation destination towards the organisation a plugin represents. When the
    tenant has that organisation, the destination is the organisation itself (so the
    reorientation becomes a referral to it); otherwise the scheme ``code``."""
    organisation = organisation_of_plugin(session, plugin_name)
    if organisation is None:
        return Destination(code, label, default_organisation)
    return Destination(organisation_destination_code(organisation), label, organisation.name)


# -- report figures --------------------------------------------------------------------

def year_bounds(tenant, year: int) -> tuple[datetime, datetime]:
    """``[1 January, 1 January next year)`` of ``year`` in the tenant's timezone, in UTC."""
    return clock.year_bounds(year, tenant)


def partner_flows(session, tenant, year: int, plugin_name: str,
                  destination_codes=()) -> dict:
    """Flows between the CCAS and the organisations plugin ``plugin_name`` represents,
    for referrals created and reorientations made in ``year``; JSON-ready aggregates,
    never a person:

    * ``referrals_in`` / ``referrals_out``: referrals received from / sent to those
      organisations, with ``…_by_status`` (current status → count: the outcome, since a
      referral's status mirrors its case's milestones) and ``referrals_in_by_purpose``;
    * ``reoriented_out``: cases reoriented to one of ``destination_codes`` or to one of
      those organisations.
    """
    start, end = year_bounds(tenant, year)
    in_year = (Referral.created_at >= start, Referral.created_at < end)
    out: dict = {}
    for direction, column in (("in", Referral.from_organisation_id),
                              ("out", Referral.to_organisation_id)):
        org = aliased(Organisation)
        rows = session.execute(
            select(Referral.status, Referral.purpose, func.count())
            .join(org, org.id == column)
            .where(org.plugin_name == plugin_name, *in_year)
            .group_by(Referral.status, Referral.purpose)
        ).all()
        statuses: Counter = Counter()
        purposes: Counter = Counter()
        for status, purpose, count in rows:
            statuses[_value(status)] += count
            purposes[_value(purpose)] += count
        out[f"referrals_{direction}"] = sum(statuses.values())
        out[f"referrals_{direction}_by_status"] = dict(sorted(statuses.items()))
        if direction == "in":
            out["referrals_in_by_purpose"] = dict(sorted(purposes.items()))
    codes = list(destination_codes) + [
        organisation_destination_code(o) for o in session.scalars(
            select(Organisation).where(Organisation.plugin_name == plugin_name))
    ]
    out["reoriented_out"] = session.scalar(
        select(func.count(func.distinct(CaseTransition.case_id)))
        .join(Case, Case.id == CaseTransition.case_id)
        .where(CaseTransition.to_state == "reoriented", CaseTransition.at >= start,
               CaseTransition.at < end, Case.reoriented_to.in_(codes))
    ) if codes else 0
    return out


def _value(member) -> str:
    return str(getattr(member, "value", member))


def partner_flow_figures(flows: dict, partner: str) -> list[Figure]:
    """``partner_flows``'s figures labelled for the review (``partner``: the partner's
    name as people say it, ``"la CAF"``)."""
    figures = [Figure(f"Orientations reçues de {partner}", flows.get("referrals_in", 0))]
    figures += [Figure(labels.label("referral_status", code), n,
                       group="Orientations reçues, par statut")
                for code, n in flows.get("referrals_in_by_status", {}).items()]
    figures += [Figure(labels.label("purpose", code, "Objet non précisé"), n,
                       group="Orientations reçues, par objet")
                for code, n in flows.get("referrals_in_by_purpose", {}).items()]
    figures.append(Figure(f"Orientations envoyées à {partner}", flows.get("referrals_out", 0)))
    figures += [Figure(labels.label("referral_status", code), n,
                       group="Orientations envoyées, par statut")
                for code, n in flows.get("referrals_out_by_status", {}).items()]
    figures.append(Figure(f"Dossiers réorientés vers {partner}", flows.get("reoriented_out", 0)))
    return figures


def suggestions_resolved(session, tenant, year: int, plugin_name: str,
                         status: str = "mobilised") -> dict[str, int]:
    """``{suggestion code: count}`` of plugin ``plugin_name``'s suggestions resolved with
    ``status`` in ``year`` (``"mobilised"``: aids obtained instead of, or before, a loan)."""
    start, end = year_bounds(tenant, year)
    rows = session.execute(
        select(CaseSuggestion.code, func.count())
        .where(CaseSuggestion.plugin == plugin_name, CaseSuggestion.status == status,
               CaseSuggestion.resolved_at >= start, CaseSuggestion.resolved_at < end)
        .group_by(CaseSuggestion.code).order_by(CaseSuggestion.code)
    ).all()
    return {code: count for code, count in rows}
