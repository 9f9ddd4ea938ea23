"""Secours Catholique: referring association with its own microcredit service."""

from __future__ import annotations

from core.plugin_api import PluginInfo, hookimpl

from .settings import SecoursCatholiqueSettings

NAME = "secours_catholique"
__version__ = "0.1.0"


@hookimpl
def ccas_plugin_info():
    return PluginInfo(
        name=NAME,
        label="Secours Catholique",
        version=__version__,
        core_requires=">=0.1,<1",
        settings_schema=SecoursCatholiqueSettings,
        description="Association : oriente des personnes et reçoit celles qu'on lui oriente.",
        organisation_kind="association",
    )
