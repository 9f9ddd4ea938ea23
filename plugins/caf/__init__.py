"""CAF: aid fund. Proposes CAF aids before a microcredit, refers people, reports outcomes."""

from __future__ import annotations

from core.plugin_api import PluginInfo, hookimpl

from .settings import CafSettings

NAME = "caf"
__version__ = "0.1.0"


@hookimpl
def ccas_plugin_info():
    return PluginInfo(
        name=NAME,
        label="CAF",
        version=__version__,
        core_requires=">=0.1,<1",
        settings_schema=CafSettings,
        description="Caisse d'allocations familiales : aides à mobiliser d'abord, orientations.",
        organisation_kind="aid_fund",
    )
