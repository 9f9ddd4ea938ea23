"""Aides de la ville: the optional aids of the city and its CCAS (an emergency grant, a
mobility aid, a help with the first rent…), declared by each city in its settings with
their conditions (purpose, age, family, resources, residence) and suggested before a
microcredit ("other aids first"), each suggestion saying why from the case's data; the
aids mobilised are counted in the yearly review.

A plugin rather than a core setting: the suggestions of "other aids first" come from
plugins through the one contract (``ccas_suggest_alternatives``), the settings page, its
validation and the per-tenant switch come with it, and a city without aids of its own
simply leaves it off. Written with ``core.plugin_api`` only, as a third party would."""

from __future__ import annotations

from core.plugin_api import (
    Figure,
    PluginInfo,
    ReportSection,
    hookimpl,
    household_facts,
    plugin_settings,
    suggestions_resolved,
)

from .rules import city_aids_for
from .settings import CityAidsSettings

NAME = "city_aids"
__version__ = "0.1.0"


@hookimpl
def ccas_plugin_info():
    return PluginInfo(
        name=NAME, label="Aides de la ville", version=__version__,
        core_requires=">=0.2,<1", settings_schema=CityAidsSettings,
        description="Les aides facultatives de la ville et de son CCAS, proposées avant un "
                    "microcrédit selon leurs conditions.",
    )


@hookimpl
def ccas_suggest_alternatives(case, session):
    settings = plugin_settings(NAME)
    if not settings["aids"]:
        return None
    return city_aids_for(settings, household_facts(session, case)) or None


@hookimpl
def ccas_report_sections(tenant, year, session):
    mobilised = suggestions_resolved(session, tenant, year, NAME, "mobilised")
    names = {aid["code"]: aid["label"] for aid in plugin_settings(NAME)["aids"]}
    figures = [Figure("Aides de la ville mobilisées", sum(mobilised.values()))]
    figures += [Figure(names.get(code, "Autre aide"), n, group="Aides mobilisées, par aide")
                for code, n in mobilised.items()]
    return ReportSection(NAME, "Aides de la ville mobilisées",
                         {"aids_mobilised": sum(mobilised.values()),
                          "aids_mobilised_by_aid": mobilised},
                         figures=tuple(figures))
