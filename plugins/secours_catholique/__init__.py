"""Secours Catholique: referring association with its own microcredit service. It refers
people in, takes people reoriented to it (its microcredit desk is told at the contact
address of its settings), and its eligibility hints (settings) become a suggestion when
the request is above what the CCAS scheme lends."""

from __future__ import annotations

from core.plugin_api import (
    PURPOSE_LABELS,
    PluginInfo,
    ReportSection,
    Suggestion,
    enqueue_email,
    format_money,
    hookimpl,
    partner_flow_figures,
    partner_flows,
    plugin_destination,
    plugin_settings,
)

from .settings import SecoursCatholiqueSettings

NAME = "secours_catholique"
__version__ = "0.2.0"
DESTINATION = "secours_catholique_microcredit"


@hookimpl
def ccas_plugin_info():
    return PluginInfo(
        name=NAME,
        label="Secours Catholique",
        version=__version__,
        core_requires=">=0.2,<1",
        settings_schema=SecoursCatholiqueSettings,
        description="Association : oriente des personnes et reçoit celles qu'on lui oriente.",
        organisation_kind="association",
    )


def fits_own_microcredit(settings: dict, purpose: str, amount) -> bool:
    """Above the CCAS scheme's ceiling, within the association's own ceiling and purposes."""
    return (purpose in settings["accepted_purposes"]
            and settings["suggest_above"] < amount <= settings["own_microcredit_max"])


@hookimpl
def ccas_suggest_alternatives(case):
    settings = plugin_settings(NAME)
    if not fits_own_microcredit(settings, str(case.purpose), case.amount_requested):
        return None
    return [Suggestion(
        "microcredit_secours_catholique", "Microcrédit personnel du Secours Catholique",
        why=(f"Montant demandé au-delà de {format_money(settings['suggest_above'])} : le "
             "microcrédit du Secours Catholique accompagne ce projet jusqu'à "
             f"{format_money(settings['own_microcredit_max'])}."),
        action="Contacter la délégation locale, ou réorienter la personne vers elle.",
    )]


@hookimpl
def ccas_reorientation_destinations(session):
    return [plugin_destination(session, NAME, DESTINATION,
                               "Secours Catholique (microcrédit personnel)",
                               "Secours Catholique")]


@hookimpl
def ccas_referral_received(referral, tenant, session):
    """A person referred to the association (a reorientation by the CCAS, or another
    partner's referral): its microcredit desk hears of it at the settings' contact
    address, besides the e-mail the core sends to the organisation's users. The initials
    only: the details are on the platform."""
    if referral.to_organisation.plugin_name != NAME:
        return
    contact = plugin_settings(NAME)["contact_email"]
    if not contact:
        return
    purpose = PURPOSE_LABELS.get(referral.purpose, referral.purpose) if referral.purpose else ""
    enqueue_email(
        session, contact,
        f"Microcrédit : orientation {referral.reference} de {referral.from_organisation.name}",
        f"{referral.from_organisation.name} oriente vers le microcrédit du Secours "
        f"Catholique une personne ({referral.initials})"
        + (f", pour un projet « {purpose} »" if purpose else "") + ".\n\n"
        "Réponse attendue sur la plateforme du CCAS (accepter, ou décliner avec un motif).\n\n"
        f"{tenant.name if tenant is not None else ''}",
        topic=f"referral:{referral.id}:{NAME}",
    )


@hookimpl
def ccas_report_sections(tenant, year, session):
    flows = partner_flows(session, tenant, year, NAME, [DESTINATION])
    return ReportSection(NAME, "Secours Catholique : orientations dans les deux sens", flows,
                         figures=tuple(partner_flow_figures(flows, "le Secours Catholique")))
