"""Crédit Municipal: the lender. FICP check queue, eligibility, loan terms and schedule,
decision, offer documents, repayments, arrears, guarantee calls, lender reporting."""

from __future__ import annotations

from core.plugin_api import PluginInfo, hookimpl

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
