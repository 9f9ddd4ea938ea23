"""Tenant resolution for web requests: ``/t/<tenant>/…`` sets the tenant once per request.

Plugin blueprints are mounted under ``/t/<tenant>/p/<plugin>/…`` and resolved the same
way; a plugin the tenant has not enabled answers 404 (see ``core.app``).
"""

from __future__ import annotations

import logging

from flask import Flask, abort, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import bindparam, select

from .. import accounts, adopted_rows, plugins, policy, tenancy
from ..db import db
from ..models import Tenant
from . import navigation

log = logging.getLogger(__name__)


def current_tenant() -> Tenant | None:
    return g.get("tenant")


#: The tenant of a page's URL, built once (every page reads it): a Core read of the global
#: ``tenants`` table, the row adopted as a loaded object (``core.adopted_rows``).
_TENANT_BY_SLUG = tenancy.global_select(select(*adopted_rows.columns(Tenant, "tenant_")).where(
    Tenant.__table__.c.slug == bindparam("slug")))


def _resolve(endpoint, values) -> None:
    if not values or "tenant" not in values:
        return
    slug = values.pop("tenant")
    found = tenancy.global_rows(db.session, _TENANT_BY_SLUG, {"slug": slug})
    if not found:
        abort(404)
    tenant = adopted_rows.adopted(db.session, Tenant, "tenant_", found[0])
    g.tenant = tenant
    g.ccas_tenant_token = tenancy.set_request_tenant(tenant.id)
    accounts.ensure_not_suspended(tenant)


def _tenant_default(app: Flask):
    """The URL default of ``app``'s pages: ``tenant``, the request's, for an endpoint whose
    rule takes one. The app and the endpoints' answers are bound here rather than found
    through ``current_app`` (a context-local proxy, twice) at each of a page's links."""
    takes_tenant: dict[str, bool] = {}

    def inject(endpoint, values) -> None:
        if "tenant" in values or not endpoint:
            return
        takes = takes_tenant.get(endpoint)
        if takes is None:
            takes = takes_tenant[endpoint] = _rule_takes_tenant(app, endpoint)
        if takes:
            tenant = g.get("tenant")
            if tenant is not None:
                values["tenant"] = tenant.slug

    return inject


def _rule_takes_tenant(app: Flask, endpoint: str) -> bool:
    try:
        return any("tenant" in rule.arguments for rule in app.url_map.iter_rules(endpoint))
    except KeyError:
        return False


def _reset(_exc=None) -> None:
    token = g.pop("ccas_tenant_token", None)
    if token is not None:
        tenancy.reset(token)


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(_resolve)
    app.url_defaults(_tenant_default(app))
    app.teardown_request(_reset)

    @app.context_processor
    def _tenant_ctx():
        return {"tenant": g.get("tenant"), "request_path": request.path, "nav_items": nav_items,
                "menu": menu, "may": may}


def nav_items() -> list:
    """Menu entries for the signed-in user: the core's features' and the tenant's enabled
    plugins' (hook ``ccas_nav_items``), for the user's role, in their order."""
    # the user object, not the context-local proxy: each plugin reads it several times
    user = current_user._get_current_object()
    if g.get("tenant") is None or not user.is_authenticated:
        return []
    role = str(user.role)
    items = []
    pages = current_app.view_functions  # once, not a context-local lookup per entry
    for item in plugins.hooks().ccas_nav_items.answers(user=user).flat():
        if item.roles and role not in item.roles:
            continue
        if item.endpoint not in pages:  # a plugin's mistake: skip it
            log.error("menu entry %r names an unknown page %r", item.label, item.endpoint)
            continue
        items.append(item)
    return sorted(items, key=lambda i: (i.order, i.label))


def menu() -> navigation.Menu | None:
    """The header's menu and the breadcrumb trail of the page being shown (computed once
    per request)."""
    tenant = g.get("tenant")
    if tenant is None or not current_user.is_authenticated:
        return None
    if "ccas_menu" not in g:
        page_url = _page_urls(tenant.slug)
        shown = request.endpoint
        home = navigation.Entry(_("Tableau de bord"), page_url("web.dashboard"),
                                "page" if shown == "web.dashboard" else "")
        g.ccas_menu = navigation.build(nav_items(), shown, page_url, home=home)
    return g.ccas_menu


#: Bound of the process's cache of the menu's links (pages × tenants).
MENU_URLS = 20_000


def _page_urls(slug: str):
    """``endpoint -> url_for(endpoint, tenant=slug)``, kept per process: the menu links 20
    to 30 pages on every page, and a link to a page of a tenant never changes while the
    URL map is the same (only the script root it is served under is part of it). The
    app, its cache and the script root are taken once a menu, not once a link (each a
    context-local proxy)."""
    app = current_app._get_current_object()
    cache = app.extensions.setdefault("ccas_page_urls", {})
    script_root = request.script_root

    def page_url(endpoint: str) -> str:
        key = (script_root, endpoint, slug)
        url = cache.get(key)
        if url is None:
            if len(cache) >= MENU_URLS:
                cache.clear()
            url = cache[key] = app.url_for(endpoint, tenant=slug)
        return url

    return page_url


def may(endpoint: str) -> bool:
    """Whether the signed-in user may open ``endpoint`` (its ``@allow`` roles): a page
    shows a link only to those who may follow it."""
    roles = policy.roles_of(current_app.view_functions.get(endpoint))
    if roles is None or roles == "public":
        return True
    if roles == "operator":
        return bool(getattr(current_user, "is_operator", False))
    return current_user.is_authenticated and str(getattr(current_user, "role", "")) in roles
