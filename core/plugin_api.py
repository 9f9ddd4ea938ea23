"""The stable surface for plugins: import from here only.

Everything else in ``core`` is private and may change between minor versions; what is
exported here follows the deprecation rules of ``core/hookspecs.py``.
"""

from __future__ import annotations

import functools

import click
import pluggy

from . import settings_fields
from .models.base import Base, TenantScoped, UTCDateTime, tenant_fk, utcnow
from .plugin_helpers import (
    has_children,
    keywords_found,
    normalise_text,
    organisation_of_plugin,
    partner_flows,
    plugin_destination,
    suggestions_resolved,
)
from .plugin_types import (
    CaseCheck,
    Destination,
    DocumentRequirement,
    NavItem,
    Panel,
    PluginInfo,
    ReportSection,
    Suggestion,
)
from .policy import allow
from .privacy.registry import PersonalData

hookimpl = pluggy.HookimplMarker("ccas")


def plugin_settings(name: str) -> dict:
    """Typed settings of plugin ``name`` for the current tenant, defaults filled in."""
    from .plugins import plugin_settings as _settings

    return _settings(name)


def current_tenant():
    """The current ``Tenant`` (inside a request or a tenant command)."""
    from .web.context import current_tenant as _current

    return _current()


def db_session():
    """The request's (tenant-scoped) SQLAlchemy session."""
    from .db import db

    return db.session


def accompaniment_status(case) -> str:
    """What a partner (the lender) may know of the CCAS's accompaniment of ``case``: a
    short French status such as « En cours de suivi par le CCAS » or « Alerte prise en
    charge par le CCAS », never the tasks or the notes."""
    from .accompaniment import status_label

    return status_label(case)


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


__all__ = [
    "allow",
    "Base",
    "TenantScoped",
    "UTCDateTime",
    "tenant_fk",
    "utcnow",
    "has_children",
    "keywords_found",
    "normalise_text",
    "organisation_of_plugin",
    "partner_flows",
    "plugin_destination",
    "suggestions_resolved",
    "CaseCheck",
    "Destination",
    "DocumentRequirement",
    "NavItem",
    "Panel",
    "PersonalData",
    "PluginInfo",
    "ReportSection",
    "Suggestion",
    "accompaniment_status",
    "current_tenant",
    "settings_fields",
    "db_session",
    "hookimpl",
    "plugin_settings",
    "tenant_command",
]
