"""MDPH: the departmental house for disabled people. A project that mentions a disability
need (an adapted vehicle, a wheelchair, hearing aids, adapting the home…) is first offered
the disability compensation benefit (PCH) or the fund for compensation, the rule naming
the words of the case that triggered it; the MDPH is a reorientation destination and
reports its flows."""

from __future__ import annotations

from core.plugin_api import (
    PluginInfo,
    ReportSection,
    Suggestion,
    hookimpl,
    keywords_found,
    partner_flows,
    plugin_destination,
    plugin_settings,
    suggestions_resolved,
)

from .settings import MdphSettings

NAME = "mdph"
__version__ = "0.1.0"
DESTINATION = "mdph"


@hookimpl
def ccas_plugin_info():
    return PluginInfo(
        name=NAME, label="MDPH", version=__version__, core_requires=">=0.2,<1",
        settings_schema=MdphSettings, organisation_kind="aid_fund",
        description="Maison départementale des personnes handicapées : prestation de "
                    "compensation et fonds départemental à mobiliser d'abord.",
    )


def mdph_suggestion(project: str, keywords) -> Suggestion | None:
    """The MDPH suggestion when ``project`` names a disability need (pure)."""
    found = keywords_found(project or "", keywords)
    if not found:
        return None
    words = ", ".join(f"« {w} »" for w in found)
    return Suggestion(
        "mdph_pch", "Prestation de compensation du handicap (MDPH)",
        why=f"Le projet évoque un besoin lié au handicap ({words}) : la PCH ou le fonds "
            "départemental de compensation peuvent en financer tout ou partie.",
        action="Vérifier les droits ouverts auprès de la MDPH (PCH aide technique, "
               "aménagement du logement ou du véhicule) avant le microcrédit.",
    )


@hookimpl
def ccas_suggest_alternatives(case):
    found = mdph_suggestion(case.project, plugin_settings(NAME)["disability_keywords"])
    return [found] if found else None


@hookimpl
def ccas_reorientation_destinations(session):
    return [plugin_destination(session, NAME, DESTINATION, "MDPH (compensation du handicap)",
                               "MDPH")]


@hookimpl
def ccas_report_sections(tenant, year, session):
    data = partner_flows(session, tenant, year, NAME, [DESTINATION])
    data["aids_mobilised"] = sum(
        suggestions_resolved(session, tenant, year, NAME, "mobilised").values())
    return ReportSection(NAME, "MDPH : orientations et compensations mobilisées", data)
