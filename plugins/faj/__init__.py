"""FAJ: the departmental Fonds d'aide aux jeunes (18-25). A young applicant whose project
is about insertion (mobility, training, employment, housing) is first offered the FAJ's
grant or advance ("other aids first"), the rule saying why from the case's data; the FAJ
is a reorientation destination and reports its flows.

Written from docs/plugins.md alone, as a third party would."""

from __future__ import annotations

from datetime import date

from core.plugin_api import (
    PURPOSE_LABELS,
    PluginInfo,
    ReportSection,
    Suggestion,
    hookimpl,
    partner_flows,
    plugin_destination,
    plugin_settings,
    suggestions_resolved,
)

from .settings import FajSettings

NAME = "faj"
__version__ = "0.1.0"
DESTINATION = "faj"


@hookimpl
def ccas_plugin_info():
    return PluginInfo(
        name=NAME, label="Fonds d'aide aux jeunes", version=__version__,
        core_requires=">=0.2,<1", settings_schema=FajSettings, organisation_kind="aid_fund",
        description="Fonds d'aide aux jeunes (18-25 ans) : aide à l'insertion à mobiliser "
                    "avant un microcrédit.",
    )


def age_on(born: date | None, day: date) -> int | None:
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def faj_suggestion(settings: dict, born: date | None, request_day: date,
                   purpose: str) -> Suggestion | None:
    """The FAJ suggestion for a person born on ``born`` asking on ``request_day`` for
    ``purpose``, or ``None`` (pure)."""
    age = age_on(born, request_day)
    if age is None or not settings["min_age"] <= age <= settings["max_age"]:
        return None
    if purpose not in settings["purposes"]:
        return None
    label = PURPOSE_LABELS.get(purpose, purpose).lower()
    bounds = f"{settings['min_age']} et {settings['max_age']} ans"
    return Suggestion(
        "faj_aid", "Fonds d'aide aux jeunes (FAJ)",
        # the rule's bounds, never the person's age: ``why`` is not personal data
        why=f"Entre {bounds} le jour de la demande, projet « {label} » : le FAJ aide les "
            f"{settings['min_age']}-{settings['max_age']} ans dans leur insertion, par une "
            "aide non remboursable ou une avance.",
        action="Vérifier avec la mission locale ou le département si une demande au FAJ "
               "peut couvrir tout ou partie du projet.",
    )


@hookimpl
def ccas_suggest_alternatives(case):
    found = faj_suggestion(plugin_settings(NAME), case.person.birth_date, case.intake_date,
                           str(case.purpose))
    return [found] if found else None


@hookimpl
def ccas_reorientation_destinations(session):
    return [plugin_destination(session, NAME, DESTINATION,
                               "Fonds d'aide aux jeunes (18-25 ans)",
                               "Fonds d'aide aux jeunes")]


@hookimpl
def ccas_report_sections(tenant, year, session):
    data = partner_flows(session, tenant, year, NAME, [DESTINATION])
    data["aids_mobilised"] = sum(
        suggestions_resolved(session, tenant, year, NAME, "mobilised").values())
    return ReportSection(NAME, "Fonds d'aide aux jeunes : orientations et aides", data)
