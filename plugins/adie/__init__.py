"""ADIE: professional microcredit. A project about creating or running a business is
reoriented to ADIE (a blocking suggestion: instruction is vetoed unless the social worker
overrides it with a reason); ADIE refers people needing a personal mobility loan."""

from __future__ import annotations

from core.plugin_api import (
    Figure,
    PluginInfo,
    ReportSection,
    Suggestion,
    format_money,
    hookimpl,
    keywords_found,
    partner_flow_figures,
    partner_flows,
    plugin_destination,
    plugin_settings,
)

from .settings import AdieSettings

NAME = "adie"
__version__ = "0.2.0"
DESTINATION = "adie"


@hookimpl
def ccas_plugin_info():
    return PluginInfo(
        name=NAME,
        label="ADIE",
        version=__version__,
        core_requires=">=0.2,<1",
        settings_schema=AdieSettings,
        description="Microcrédit professionnel : les projets d'entreprise lui sont orientés.",
        organisation_kind="association",
    )


def business_signals(project: str, purpose: str, keywords) -> list[str]:
    """The settings' keywords found in the project text (and purpose code)."""
    return keywords_found(f"{project or ''} {purpose or ''}", keywords)


@hookimpl
def ccas_suggest_alternatives(case):
    settings = plugin_settings(NAME)
    found = business_signals(case.project, str(case.purpose), settings["business_keywords"])
    if not found:
        return None
    words = ", ".join(f"« {w} »" for w in found)
    return [Suggestion(
        "projet_professionnel", "Projet professionnel : microcrédit de l'ADIE",
        why=f"Le projet évoque une activité professionnelle ({words}).",
        action=("Réorienter vers l'ADIE (microcrédit professionnel jusqu'à "
                f"{format_money(settings['professional_loan_max'])}) ; si le projet est personnel, "
                "passer outre en indiquant pourquoi."),
        blocking=True,
    )]


@hookimpl
def ccas_reorientation_destinations(session):
    return [plugin_destination(session, NAME, DESTINATION,
                               "ADIE (microcrédit professionnel)", "ADIE")]


@hookimpl
def ccas_report_sections(tenant, year, session):
    data = partner_flows(session, tenant, year, NAME, [DESTINATION])
    data["mobility_referrals_in"] = data["referrals_in_by_purpose"].get("mobility", 0)
    figures = partner_flow_figures(data, "l'ADIE")
    figures.append(Figure("Projets de mobilité orientés par l'ADIE",
                          data["mobility_referrals_in"]))
    return ReportSection(NAME, "ADIE : projets professionnels orientés, orientations reçues",
                         data, figures=tuple(figures))
