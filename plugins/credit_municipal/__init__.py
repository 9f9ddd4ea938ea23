"""Crédit Municipal: the lender. FICP check queue, eligibility, loan terms and schedule,
decision, offer documents, repayments, arrears, guarantee calls, lender reporting.

This module is the plugin's hook table: each hook is implemented once here and delegates
to the feature modules (``ficp``, ``loans``…), so features do not collide.
"""

from __future__ import annotations

from core.plugin_api import LendingBounds, PluginInfo, hookimpl, plugin_settings

from . import (
    audit_labels,
    demo,
    ficp,
    hookspecs,
    views_loans,  # also registers the pages on bp
)
from . import loans as loan_service
from . import models as _loan_models  # noqa: F401 - registers the loan tables
from .blueprint import bp
from .settings import CreditMunicipalSettings

NAME = "credit_municipal"
__version__ = "0.2.0"


@hookimpl
def ccas_plugin_info():
    return PluginInfo(
        name=NAME,
        label="Crédit Municipal",
        version=__version__,
        core_requires=">=0.2,<1",
        settings_schema=CreditMunicipalSettings,
        description="Prêteur : contrôle FICP, décision, offre de prêt, remboursements.",
        organisation_kind="lender",
    )


@hookimpl
def ccas_hookspecs():
    return [hookspecs]


@hookimpl
def ccas_case_workflow():
    return ficp.CASE_WORKFLOW


@hookimpl
def ccas_labels():
    return audit_labels.labels()


@hookimpl
def ccas_blueprints():
    return [bp]


@hookimpl
def ccas_api_blueprints():
    from .api import api

    return [api]


@hookimpl
def ccas_lending_bounds():
    conf = plugin_settings(NAME)
    return LendingBounds("le Crédit Municipal", conf["amount_min"], conf["amount_max"],
                         frozenset(conf["allowed_purposes"]))


@hookimpl
def ccas_case_checks(case, state, session):
    return ficp.case_checks(session, case, state)


@hookimpl
def ccas_case_before_transition(case, transition, actor, data):
    return loan_service.veto(case, transition, actor, data)


@hookimpl
def ccas_case_after_transition(case, transition, actor, data, session):
    ficp.after_transition(session, case, transition)
    loan_service.react(case, transition, actor, data)


@hookimpl
def ccas_nav_items(user):
    return [*(ficp.nav_items(user) or []), *views_loans.nav_items(user)]


@hookimpl
def ccas_dashboard_panels(user, session):
    return [*(ficp.dashboard_panels(session, user) or []),
            *(views_loans.dashboard_panels(session, user) or [])]


@hookimpl
def ccas_case_panels(case, user, session):
    return [*(ficp.case_panels(session, case, user) or []),
            *(views_loans.case_panels(session, case, user) or [])]


@hookimpl
def ccas_cli_commands():
    from .arrears import cli
    from .legacy_import import import_group

    return [cli, import_group]


@hookimpl
def ccas_scheduled_jobs():
    from .arrears import scheduled_jobs

    return scheduled_jobs()


@hookimpl
def ccas_report_sections(tenant, year, session):
    from .reporting import report_section

    return report_section(tenant, year, session)


@hookimpl
def ccas_demo_data(rng, cases, today, session):
    return demo.demo_data(session, rng, cases, today)


@hookimpl
def ccas_loan_details(loan_id, session):
    return loan_service.api_details(session, loan_id)


@hookimpl
def ccas_loan_schedule(loan_id, session):
    return loan_service.api_schedule(session, loan_id)


@hookimpl
def ccas_personal_data():
    from core.plugin_api import PersonalData

    by_case = (("case_id", "cases"),)
    by_loan = (("loan_id", "credit_municipal_loans"),)
    return [
        # The result is kept for the lender's statistics: once the person is anonymised
        # it names no one. No borrower field is copied on the lender's rows.
        PersonalData("credit_municipal_ficp_checks", non_personal=("source", "agent_label"),
                     links=by_case, label="Contrôles FICP"),
        PersonalData("credit_municipal_co_ficp_checks", non_personal=("agent_label",),
                     links=by_case, label="Contrôles FICP du co-emprunteur"),
        PersonalData(
            "credit_municipal_loans", links=by_case, label="Prêts",
            non_personal=("reference", "method", "lender_signatory", "ccas_signatory",
                          "origin"),
            hold_column="status", hold_values=("signed", "repaying", "defaulted"),
            hold_reason="un prêt du Crédit Municipal n'est pas soldé",
        ),
        PersonalData("credit_municipal_installments", links=by_loan, label="Échéancier"),
        PersonalData("credit_municipal_repayments", non_personal=("external_key",),
                     links=by_loan, label="Remboursements"),
        PersonalData("credit_municipal_guarantee_calls", non_personal=("guarantor", "label"),
                     links=by_loan, label="Appels en garantie"),
        PersonalData("credit_municipal_import_batches", non_personal=("filename", "file_sha256")),
        # The social worker's reasons may say things about the person: blanked at purge;
        # the schedule replaced is figures only.
        PersonalData("credit_municipal_reschedulings", label="Réaménagements",
                     personal={"opinion_text": "blank"},
                     non_personal=("opinion", "previous_schedule"), links=by_loan),
        PersonalData("credit_municipal_recoveries", links=by_loan, label="Recouvrements"),
        PersonalData("credit_municipal_recovery_shares", non_personal=("party",),
                     links=by_loan, label="Recouvrements reversés"),
    ]
