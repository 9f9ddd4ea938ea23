"""Tenant pages outside any particular capability: sign-in, dashboard, plugin settings."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import audit, plugins
from ..accounts import identity_providers, sign_in_guard
from ..accounts.credentials import hash_password, needs_rehash
from ..db import db
from ..hookspecs import hookimpl
from ..models import PluginState, User
from ..plugins import settings_form
from ..plugins.types import NavItem
from ..policy import ALL_TENANT_ROLES, MANAGER, ROLE_LABELS, allow, public
from .auth import end_session, guarded_authenticate, provider_logout_url, sign_in

bp = Blueprint("web", __name__, url_prefix="/t/<tenant>")


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths are followed after sign-in (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    error = None
    email = ""
    password_allowed = identity_providers.password_sign_in_allowed(g.tenant)
    if request.method == "POST" and not password_allowed:
        error = ("La connexion par mot de passe est désactivée sur ce territoire : "
                 "utilisez le bouton de votre fournisseur d'identité.")
    elif request.method == "POST":
        email = (request.form.get("email") or "").strip().lower()
        password = request.form.get("password") or ""
        user, ok, wait = guarded_authenticate(User, email, password)
        if wait:
            return slowed("login.html", wait, email=email, expired=False,
                          providers=identity_providers.providers_for_login(db.session),
                          password_allowed=password_allowed)
        if not ok:
            error = "Adresse e-mail ou mot de passe incorrect."
            if user is not None:
                audit.record(db.session, "login.failed", user, actor=user)
                db.session.commit()
        else:
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            next_url = safe_next(request.args.get("next"), url_for("web.dashboard"))
            return redirect(sign_in(user, next_url))
    expired = g.get("ccas_session_expired", False)
    status = (401 if password_allowed else 403) if error else 200
    return render_template(
        "login.html", error=error, email=email, expired=expired,
        providers=identity_providers.providers_for_login(db.session),
        password_allowed=password_allowed,
    ), status


def slowed(template: str, wait: int, **context):
    """The sign-in page answering 429: too many failures, wait ``wait`` seconds."""
    page = render_template(template, error=sign_in_guard.slowed_message(wait), **context)
    return page, 429, {"Retry-After": str(wait)}


@bp.route("/logout", methods=["POST"])
@public
def logout():
    at_provider = provider_logout_url()
    end_session()
    if at_provider:
        # The provider's session too: a page that moves on to the provider at once (a
        # redirect after a form would be blocked by the CSP's form-action 'self'); the
        # provider sends the browser back to the sign-in page.
        return render_template("logout_provider.html", url=at_provider)
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("web.login"))


@bp.route("/")
@allow(ALL_TENANT_ROLES)
def dashboard():
    panels = plugins.hooks().ccas_dashboard_panels.answers(user=current_user).flat()
    panels.sort(key=lambda p: p.order)
    return render_template(
        "dashboard.html", panels=panels, role_label=ROLE_LABELS.get(current_user.role, ""),
    )


@hookimpl
def ccas_nav_items():
    return [NavItem("Extensions", "web.plugin_list", MANAGER, order=950,
                    section="Administration")]


@bp.route("/admin/plugins")
@allow(MANAGER)
def plugin_list():
    reg = plugins.registry()
    states = {s.plugin_name: s for s in db.session.scalars(select(PluginState))}
    rows = [
        {"name": name, "info": p.info, "enabled": bool(states.get(name) and states[name].enabled)}
        for name, p in sorted(reg.usable().items())
    ]
    return render_template("admin/plugins.html", rows=rows)


@bp.route("/admin/plugins/<name>", methods=["GET", "POST"])
@allow(MANAGER)
def plugin_settings(name: str):
    """A plugin's settings, with the widgets its schema calls for
    (``core.plugins.settings_form``): no JSON to type."""
    reg = plugins.registry()
    try:
        plugin = reg.get(name)
    except plugins.PluginError:
        abort(404)
    schema_cls = plugin.info.settings_schema
    state = db.session.scalar(select(PluginState).where(PluginState.plugin_name == name))
    values = reg.validate_settings(name, state.settings if state else {})
    errors: dict = {}
    if request.method == "POST" and schema_cls is not None:
        submitted, errors = settings_form.parse(schema_cls, request.form)
        try:
            if errors:
                raise plugins.PluginError("invalid", {})
            stored = plugins.update_settings(db.session, name, submitted)
        except plugins.PluginError as exc:
            errors = {**errors, **settings_form.form_errors(exc.errors)}
            values = {**values, **submitted}
            db.session.rollback()
        else:
            audit.record(db.session, "plugin.settings", None, plugin=name, settings=stored)
            db.session.commit()
            flash("Réglages enregistrés.", "success")
            return redirect(url_for("web.plugin_settings", name=name))
    widgets = settings_form.describe(schema_cls, values) if schema_cls else []
    status = 422 if errors else 200
    return (
        render_template(
            "admin/plugin_settings.html",
            plugin=plugin, widgets=widgets, errors=errors,
            enabled=bool(state and state.enabled),
        ),
        status,
    )
