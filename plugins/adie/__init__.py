"""ADIE: professional microcredit. Business projects are reoriented to it."""

from __future__ import annotations

from core.plugin_api import PluginInfo, hookimpl

from .settings import AdieSettings

NAME = "adie"
__version__ = "0.1.0"


@hookimpl
def ccas_plugin_info():
    return PluginInfo(
        name=NAME,
        label="ADIE",
        version=__version__,
        core_requires=">=0.1,<1",
        settings_schema=AdieSettings,
        description="Microcrédit professionnel : les projets d'entreprise lui sont orientés.",
        organisation_kind="association",
    )
