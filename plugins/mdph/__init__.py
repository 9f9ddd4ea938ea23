"""MDPH: the departmental house for disabled people. A case whose project, or the social
worker's synthesis, mentions a disability need (an adapted vehicle, a wheelchair, hearing
aids, adapting the home, the AAH…) is first offered the disability compensation benefit
(PCH) or the fund for compensation, the rule naming the settings' words found and where
(never the case's text); the MDPH is a reorientation destination and reports its flows.
(The AAH itself is an MDPH decision paid by the CAF: the same suggestion covers it.)"""

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
    synthesis_text,
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


def mdph_suggestion(project: str, keywords, synthesis: str = "") -> Suggestion | None:
    """The MDPH suggestion when ``project`` or the ``synthesis`` names a disability need
    (pure)."""
    places = []
    for where, text in (("le projet", project), ("la synthèse de la situation", synthesis)):
        found = keywords_found(text or "", keywords)
        if found:
            places.append(f"{where} évoque un besoin lié au handicap "
                          f"({', '.join(f'« {w} »' for w in found)})")
    if not places:
        return None
    said = " ; ".join(places)
    return Suggestion(
        "mdph_pch", "Prestation de compensation du handicap (MDPH)",
        why=said[0].upper() + said[1:] + " : la PCH ou le fonds départemental de compensation "
            "peuvent en financer tout ou partie.",
        action="Vérifier les droits ouverts auprès de la MDPH (PCH aide technique, "
               "aménagement du logement ou du véhicule) avant le microcrédit.",
    )


@hookimpl
def ccas_suggest_alternatives(case, session):
    found = mdph_suggestion(case.project, plugin_settings(NAME)["disability_keywords"],
                            synthesis_text(session, case))
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
