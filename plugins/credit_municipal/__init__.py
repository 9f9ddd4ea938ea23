"""Crédit Municipal: the lender. FICP check queue, eligibility, loan terms and schedule,
decision, offer documents, repayments, arrears, guarantee calls, lender reporting.

This module is the plugin's hook table: each hook is implemented once here and delegates
to the feature modules (``ficp``, ``loans``…), so features do not collide.
"""

from __future__ import annotations

from core.plugin_api import PluginInfo, hookimpl

from .blueprint import bp
from .settings import CreditMunicipalSettings

NAME = "credit_municipal"
__version__ = "0.1.0"


@hookimpl
def ccas_plugin_info():
    return PluginInfo(
        name=NAME,
        label="Crédit Municipal",
        version=__version__,
        core_requires=">=0.1,<1",
        settings_schema=CreditMunicipalSettings,
        description="Prêteur : contrôle FICP, décision, offre de prêt, remboursements.",
        organisation_kind="lender",
    )


@hookimpl
def ccas_blueprints():
    return [bp]
