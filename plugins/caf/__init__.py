"""CAF: aid fund. Proposes CAF aids before a microcredit, receives referrals from the CAF
social service (allocataire number and family quotient optional, used by the suggestions
of the case opened from the referral), reports outcomes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import object_session

from core.plugin_api import (
    Figure,
    Organisation,
    PluginInfo,
    Referral,
    ReportSection,
    has_children,
    hookimpl,
    household_facts,
    partner_flow_figures,
    partner_flows,
    plugin_destination,
    plugin_settings,
    suggestions_resolved,
)

from .referral_fields import CafReferralFields
from .rules import aids_for
from .settings import CafSettings

NAME = "caf"
__version__ = "0.2.0"
DESTINATION = "caf_action_sociale"


@hookimpl
def ccas_plugin_info():
    return PluginInfo(
        name=NAME,
        label="CAF",
        version=__version__,
        core_requires=">=0.2,<1",
        settings_schema=CafSettings,
        description="Caisse d'allocations familiales : aides à mobiliser d'abord, orientations.",
        organisation_kind="aid_fund",
    )


def _caf_extras(session, case) -> list[dict]:
    """``extra`` of the referrals the CAF sent for this case, the latest first."""
    extras = session.scalars(
        select(Referral.extra)
        .join(Organisation, Organisation.id == Referral.from_organisation_id)
        .where(Referral.case_id == case.id, Organisation.plugin_name == NAME)
        .order_by(Referral.created_at.desc(), Referral.id)
    ).all()
    return [e for e in extras if isinstance(e, dict)]


def family_quotient(session, case) -> int | None:
    """The family quotient the CAF gave when it referred the case, if it did (the latest
    referral giving one)."""
    values = [e.get("family_quotient") for e in _caf_extras(session, case)]
    return next((v for v in values if isinstance(v, int) and not isinstance(v, bool)),
                None)


def known_allocataire(session, case) -> bool:
    """Whether the CAF gave the household's allocataire number when it referred the case."""
    return any(e.get("allocataire_number") for e in _caf_extras(session, case))


@hookimpl
def ccas_suggest_alternatives(case):
    session = object_session(case)
    return aids_for(plugin_settings(NAME), str(case.purpose), has_children(case.person),
                    family_quotient(session, case),
                    allocataire=known_allocataire(session, case),
                    facts=household_facts(session, case))


@hookimpl
def ccas_reorientation_destinations(session):
    return [plugin_destination(session, NAME, DESTINATION,
                               "Action sociale de la CAF (aides financières individuelles)",
                               "CAF")]


@hookimpl
def ccas_referral_fields_schema(organisation, sender):
    """The same optional fields both ways: on referrals to the CAF, and on referrals the
    CAF sends (to the CCAS: the quotient then drives the suggestions of the case)."""
    if organisation.plugin_name == NAME:
        return CafReferralFields
    if sender is not None and sender.plugin_name == NAME:
        return CafReferralFields
    return None


@hookimpl
def ccas_report_sections(tenant, year, session):
    data = partner_flows(session, tenant, year, NAME, [DESTINATION])
    mobilised = suggestions_resolved(session, tenant, year, NAME, "mobilised")
    data["aids_mobilised"] = sum(mobilised.values())
    data["aids_mobilised_by_aid"] = mobilised
    names = {rule["code"]: rule["label"] for rule in plugin_settings(NAME)["aid_rules"]}
    figures = partner_flow_figures(data, "la CAF")
    figures.append(Figure("Aides de la CAF mobilisées", data["aids_mobilised"]))
    figures += [Figure(names.get(code, "Autre aide"), n, group="Aides mobilisées, par aide")
                for code, n in mobilised.items()]
    return ReportSection(NAME, "CAF : orientations et aides mobilisées", data,
                         figures=tuple(figures))
