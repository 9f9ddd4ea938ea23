"""Secours Catholique: referring association with its own microcredit service. It refers
people in, takes people reoriented to it, and its eligibility hints (settings) become a
suggestion when the request is above what the CCAS scheme lends."""

from __future__ import annotations

from core.plugin_api import (
    PluginInfo,
    ReportSection,
    Suggestion,
    db_session,
    hookimpl,
    partner_flows,
    plugin_destination,
    plugin_settings,
)

from .settings import SecoursCatholiqueSettings

NAME = "secours_catholique"
__version__ = "0.1.0"
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
        why=(f"Montant demandé au-delà de {settings['suggest_above']:.0f} € : le "
             "microcrédit du Secours Catholique accompagne ce projet jusqu'à "
             f"{settings['own_microcredit_max']:.0f} €."),
        action="Contacter la délégation locale, ou réorienter la personne vers elle.",
    )]


@hookimpl
def ccas_reorientation_destinations():
    return [plugin_destination(db_session(), NAME, DESTINATION,
                               "Secours Catholique (microcrédit personnel)",
                               "Secours Catholique")]


@hookimpl
def ccas_report_sections(tenant, year, session):
    return ReportSection(NAME, "Secours Catholique : orientations dans les deux sens",
                         partner_flows(session, tenant, year, NAME, [DESTINATION]))
