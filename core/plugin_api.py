"""The stable surface for plugins: import from here only.

Everything else in ``core`` is private and may change between minor versions; what is
exported here follows the deprecation rules of ``core/hookspecs.py`` (names are added,
never renamed or removed without a deprecation period). ``tests/test_plugin_api.py``
fails when a module under ``plugins/`` imports any other ``core`` module, and when a name
listed below goes missing.

What a plugin gets, by need:

Declaring the plugin
    ``hookimpl`` (the marker for hook implementations), ``PluginInfo`` (identity,
    settings schema, compatible core versions), ``settings_fields`` (reusable settings
    fields with French labels), ``plugin_settings(name)`` (the current tenant's typed
    settings), ``PersonalData`` (RGPD descriptor of a plugin table),
    ``tenant_command(name)`` (decorator for the plugin's CLI commands).

Values returned by hooks
    ``CaseCheck``, ``Destination``, ``DocumentRequirement``, ``NavItem``, ``Panel``,
    ``ReportSection``, ``Suggestion``.

Calling hooks (a plugin may emit or consult hooks too)
    ``hooks()`` (the caller limited to the current tenant's enabled plugins),
    ``call_each(hook_caller, **kwargs)`` (one plugin at a time, a raising plugin logged
    with its name and skipped).

Request and tenant
    ``current_tenant()``, ``db_session()`` (the tenant-scoped SQLAlchemy session),
    ``allow(*roles)`` (the authorization decorator every plugin view must carry),
    ``LOAN_READERS`` (the roles the core lets read a loan).

Tables of a plugin (models and Alembic migrations)
    ``Base`` (the declarative base: one metadata for core and plugins), ``TenantScoped``
    (mixin: ``(tenant_id, id)`` primary key, tenant filtering), ``tenant_fk(column,
    table)`` (composite foreign key to another tenant table), ``UTCDateTime`` (aware UTC
    timestamps; the column type plugin migrations use too), ``utcnow()``.

Core models a plugin may query (read them; change a case only through the workflow)
    ``Case``, ``State`` (the case's states), ``PURPOSE_LABELS`` (French labels of the
    purposes), ``Organisation``, ``Referral``.

Case workflow
    ``apply_transition(session, case, request, actor)`` with a ``TransitionRequest(target,
    version, reason=…, reason_text=…, destination=…, data=…)``; ``TransitionError`` (a
    refused move) and its subclass ``StaleCase`` (the case changed meanwhile: 409);
    ``accompaniment_status(case)`` (what a lender may know of the CCAS's follow-up).

Writing what others must know (same transaction, never committed here)
    ``record_audit(session, action, obj, actor=None, **detail)`` and
    ``actor_label(actor)`` (the audit trail), ``enqueue_email(session, to, subject,
    text, …)`` (the outbox: nothing is sent from a request), ``UserError`` (the French
    message for the person in front of the screen or the API client: status, field).

Reading user input and showing values the French way
    ``local_today(tenant)``, ``parse_amount(value, field)``, ``parse_date(value,
    field)``, ``format_money(amount)``, ``reasons(tenant, kind)`` (the tenant's reason
    labels: ``"refuse"``, ``"close"``…).

Loan arithmetic (pure: Decimal in, Decimal out, no database)
    ``build_schedule``, ``remaining_schedule``, ``validate_loan_inputs`` and
    ``LoanInputError``, ``annual_percentage_rate``, ``round_apr``, ``schedule_json``.

Helpers shared by partner plugins
    ``has_children``, ``keywords_found``, ``normalise_text``, ``organisation_of_plugin``,
    ``partner_flows``, ``plugin_destination``, ``suggestions_resolved``.

Objects reached through these (a ``Case``'s ``person``, a ``Tenant``…) may be read the
same way; their own modules stay private.
"""

from __future__ import annotations

import functools

import click
import pluggy

from .cases import local_today, parse_amount, parse_date
from .errors import UserError
from .loans import (
    LoanInputError,
    annual_percentage_rate,
    build_schedule,
    remaining_schedule,
    round_apr,
    schedule_json,
    validate_loan_inputs,
)
from .models import PURPOSE_LABELS, Case, Organisation, Referral, State
from .models.base import Base, TenantScoped, UTCDateTime, tenant_fk, utcnow
from .plugins import settings_fields
from .plugins.helpers import (
    has_children,
    keywords_found,
    normalise_text,
    organisation_of_plugin,
    partner_flows,
    plugin_destination,
    suggestions_resolved,
)
from .plugins.types import (
    CaseCheck,
    Destination,
    DocumentRequirement,
    NavItem,
    Panel,
    PluginInfo,
    ReportSection,
    Suggestion,
)
from .policy import LOAN_READERS, allow
from .privacy.registry import PersonalData
from .web.filters import format_money
from .workflow import StaleCase, TransitionError, TransitionRequest, apply_transition
from .workflow.reasons import reasons

hookimpl = pluggy.HookimplMarker("ccas")


# -- declaring the plugin --------------------------------------------------------------


def plugin_settings(name: str) -> dict:
    """Typed settings of plugin ``name`` for the current tenant, defaults filled in."""
    from .plugins import plugin_settings as _settings

    return _settings(name)


def tenant_command(plugin_name: str):
    """Decorate a click command: adds ``--tenant SLUG``, opens the app and the tenant
    scope, and refuses (exit code 1) a tenant that has not enabled ``plugin_name``. The
    command receives ``tenant`` (the ``Tenant``)."""

    def decorate(fn):
        @click.option("--tenant", "tenant_slug", required=True, help="Tenant slug.")
        @functools.wraps(fn)
        def wrapper(tenant_slug, *args, **kwargs):
            from .cli import tenant_context

            with tenant_context(tenant_slug) as tenant:
                from .plugins import is_enabled

                if not is_enabled(plugin_name):
                    raise click.ClickException(
                        f"L'extension {plugin_name!r} n'est pas activée pour {tenant_slug!r}."
                    )
                return fn(*args, tenant=tenant, **kwargs)

        return wrapper

    return decorate


# -- calling hooks ---------------------------------------------------------------------


def hooks():
    """The hook caller limited to the plugins the current tenant enabled (the one the core
    uses): ``hooks().ccas_loan_event(loan=…, event=…, data=…)``."""
    from .plugins import hooks as _hooks

    return _hooks()


def call_each(hook_caller, **kwargs):
    """Ask each implementation of ``hook_caller`` (e.g. ``hooks().ccas_ficp_check``) on its
    own, in pluggy's call order; yields ``(plugin_name, result)``. A plugin that raises is
    logged with its name and its exception is yielded as its result, so the caller can
    skip it instead of failing. Only the arguments an implementation takes are passed."""
    from .workflow import _call_each

    yield from _call_each(hook_caller, **kwargs)


# -- request and tenant ----------------------------------------------------------------


def current_tenant():
    """The current ``Tenant`` (inside a request or a tenant command), or ``None``."""
    from .web.context import current_tenant as _current

    return _current()


def db_session():
    """The request's (or the tenant command's) SQLAlchemy session, tenant-scoped: every
    query on a ``TenantScoped`` model sees the current tenant's rows only. Commit in views
    and commands, never in services. (The session, not the Flask-SQLAlchemy object: a
    plugin has no business with engines, ``create_all`` or the app's metadata.)"""
    from .db import db

    return db.session


# -- case workflow ---------------------------------------------------------------------


def accompaniment_status(case) -> str:
    """What a partner (the lender) may know of the CCAS's accompaniment of ``case``: a
    short French status such as « En cours de suivi par le CCAS » or « Alerte prise en
    charge par le CCAS », never the tasks or the notes."""
    from .features.accompaniment import status_label

    return status_label(case)


# -- audit trail -----------------------------------------------------------------------


def record_audit(session, action: str, obj=None, actor=None, **detail):
    """Add an audit row for ``action`` on ``obj`` to ``session``, in the caller's
    transaction: every read and change of a person's file goes to the trail. ``actor``
    defaults to the signed-in user (``"cli"`` in a command); ``detail`` values are
    stored as JSON (dates, decimals and UUIDs as strings)."""
    from . import audit

    return audit.record(session, action, obj, actor=actor, **detail)


def actor_label(actor=None) -> str:
    """How the audit trail names ``actor`` (``"user:<email>"``, ``"token:…"``, ``"cli"``)."""
    from . import audit

    return audit.actor_label(actor)


# -- outbox ----------------------------------------------------------------------------


def enqueue_email(session, to: str, subject: str, text: str, html: str | None = None,
                  attachments: list[tuple[str, str, bytes]] | None = None,
                  topic: str = ""):
    """Queue an e-mail in the outbox, in the caller's transaction (it is sent after the
    commit, by the delivery worker, with retries). ``attachments``: ``(filename,
    content_type, bytes)``; ``topic`` groups messages about one subject."""
    from . import outbox

    return outbox.enqueue_email(session, to, subject, text, html=html,
                                attachments=attachments, topic=topic)


__all__ = [
    # declaring the plugin
    "hookimpl",
    "PluginInfo",
    "settings_fields",
    "plugin_settings",
    "PersonalData",
    "tenant_command",
    # values returned by hooks
    "CaseCheck",
    "Destination",
    "DocumentRequirement",
    "NavItem",
    "Panel",
    "ReportSection",
    "Suggestion",
    # calling hooks
    "hooks",
    "call_each",
    # request and tenant
    "current_tenant",
    "db_session",
    "allow",
    "LOAN_READERS",
    # tables of a plugin
    "Base",
    "TenantScoped",
    "tenant_fk",
    "UTCDateTime",
    "utcnow",
    # core models a plugin may query
    "Case",
    "State",
    "PURPOSE_LABELS",
    "Organisation",
    "Referral",
    # case workflow
    "apply_transition",
    "TransitionRequest",
    "TransitionError",
    "StaleCase",
    "accompaniment_status",
    # writing what others must know
    "record_audit",
    "actor_label",
    "enqueue_email",
    "UserError",
    # user input and French display
    "local_today",
    "parse_amount",
    "parse_date",
    "format_money",
    "reasons",
    # loan arithmetic
    "build_schedule",
    "remaining_schedule",
    "validate_loan_inputs",
    "LoanInputError",
    "annual_percentage_rate",
    "round_apr",
    "schedule_json",
    # helpers shared by partner plugins
    "has_children",
    "keywords_found",
    "normalise_text",
    "organisation_of_plugin",
    "partner_flows",
    "plugin_destination",
    "suggestions_resolved",
]
