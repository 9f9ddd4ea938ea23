"""Sign-in through a tenant's identity providers (OpenID Connect) and the manager's page
that configures them (``/t/<slug>/admin/identity``).

The flow's protocol is ``core.accounts.oidc``'s; a verified identity matched to an
account ends in ``auth.sign_in``, the same function as a right password (second factor,
session, audit trail). The redirect URI to register at the provider is
``CCAS_BASE_URL/t/<slug>/login/oidc/callback`` (shown on the manager's page).
"""

from __future__ import annotations

import logging
import uuid

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit
from ..accounts import identity_providers as idp
from ..accounts import oidc
from ..db import db
from ..errors import UserError
from ..hookspecs import hookimpl
from ..models import IdentityProvider, Organisation
from ..plugins.types import NavItem
from ..policy import MANAGER, allow, public
from .auth import sign_in
from .views import safe_next

log = logging.getLogger(__name__)

bp = Blueprint("identity", __name__, url_prefix="/t/<tenant>")


def redirect_uri() -> str:
    """The callback URL registered at every provider of this tenant."""
    return current_app.config["CCAS_BASE_URL"].rstrip("/") + url_for("identity.callback")


def _refused(message: str, status: int = 401):
    password_allowed = idp.password_sign_in_allowed(g.tenant)
    return render_template(
        "login.html", error=message, email="", expired=False,
        providers=idp.providers_for_login(db.session), password_allowed=password_allowed,
    ), status


# -- sign-in ------------------------------------------------------------------------------


@bp.route("/login/oidc/<provider_id>")
@public
def start(provider_id: str):
    provider = oidc.active_provider(db.session, provider_id)
    if provider is None:
        abort(404)
    flows = dict(session.get(oidc.SESSION_KEY) or {})
    next_url = safe_next(request.args.get("next"), url_for("web.dashboard"))
    try:
        url = oidc.begin(provider, redirect_uri(), flows, next_url)
    except oidc.SignInRefused as exc:
        return _refused(exc.message)
    session[oidc.SESSION_KEY] = flows
    return redirect(url)


@bp.route("/login/oidc/callback")
@public
def callback():
    flows = dict(session.get(oidc.SESSION_KEY) or {})
    provider = None
    try:
        flow = oidc.take_flow(flows, request.args.get("state"))
        session[oidc.SESSION_KEY] = flows  # consumed, whatever happens next
        provider = oidc.active_provider(db.session, flow["p"])
        if provider is None:
            raise oidc.SignInRefused(_("Ce fournisseur d'identité n'est plus proposé ici."),
                                     "provider_gone")
        identity = oidc.finish(provider, flow, request.args, redirect_uri())
        user = oidc.match_account(db.session, identity)
    except oidc.SignInRefused as exc:
        session[oidc.SESSION_KEY] = flows
        log.info("OpenID Connect sign-in refused on %s: %s", g.tenant.slug, exc.reason)
        if exc.user is not None:
            audit.record(db.session, "login.failed", exc.user, actor=exc.user,
                         method="oidc", provider=provider.name if provider else None,
                         reason=exc.reason)
            db.session.commit()
        return _refused(exc.message)
    # The ID token is kept (as the provider's sign-out hint) unless it is unreasonably
    # long; without it the sign-out still names our client.
    hint = identity.id_token if len(identity.id_token) <= oidc.MAX_HINT_CHARS else None
    extra = {"ccas_oidc": {"p": str(provider.id), "id_token": hint}}
    next_url = safe_next(identity.next_url, url_for("web.dashboard"))
    return redirect(sign_in(user, next_url, extra, method="oidc", provider=provider.name))


# -- the manager's page -------------------------------------------------------------------


@hookimpl
def ccas_nav_items():
    return [NavItem("Connexion et identité", "identity.admin", MANAGER, order=955,
                    section="Administration")]


FORM_FIELDS = ("name", "issuer", "client_id", "client_secret", "domains", "scopes",
               "organisation", "trust_unverified_email", "active")


def _form_values(provider: IdentityProvider | None) -> dict:
    if provider is None:
        return {"scopes": idp.DEFAULT_SCOPES, "active": True, "domains": "",
                "organisation": ""}
    return {
        "name": provider.name, "issuer": provider.issuer, "client_id": provider.client_id,
        "domains": ", ".join(provider.allowed_domains or []), "scopes": provider.scopes,
        "organisation": provider.organisation.name if provider.organisation else "",
        "trust_unverified_email": provider.trust_unverified_email, "active": provider.active,
    }


@bp.route("/admin/identity", methods=["GET", "POST"])
@allow(MANAGER)
def admin():
    if request.method == "POST":
        allowed = request.form.get("password_sign_in") == "on"
        try:
            idp.set_password_sign_in(db.session, g.tenant, allowed)
        except UserError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("Réglage enregistré."), "success")
        return redirect(url_for("identity.admin"))
    return render_template(
        "admin/identity.html", providers=idp.list_providers(db.session),
        password_allowed=idp.password_sign_in_allowed(g.tenant), redirect_uri=redirect_uri(),
    )


@bp.route("/admin/identity/provider", methods=["GET", "POST"])
@bp.route("/admin/identity/provider/<provider_id>", methods=["GET", "POST"])
@allow(MANAGER)
def provider_form(provider_id: str | None = None):
    provider = None
    if provider_id is not None:
        try:
            provider = db.session.get(IdentityProvider, (g.tenant.id, uuid.UUID(provider_id)))
        except ValueError:
            provider = None
        if provider is None:
            abort(404)
    values = _form_values(provider)
    errors: dict = {}
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in FORM_FIELDS}
        name = provider.name if provider is not None else form["name"]
        try:
            saved = idp.set_provider(
                db.session, name, issuer=form["issuer"], client_id=form["client_id"],
                client_secret=form["client_secret"] or None, domains=form["domains"],
                scopes=form["scopes"], organisation=form["organisation"],
                trust_unverified_email=form["trust_unverified_email"] == "on",
                active=form["active"] == "on", tenant=g.tenant,
            )
        except UserError as exc:
            db.session.rollback()
            errors = exc.errors or {exc.field or "name": [exc.message]}
            values = {**form, "client_secret": "",
                      "trust_unverified_email": form["trust_unverified_email"] == "on",
                      "active": form["active"] == "on"}
        else:
            db.session.commit()
            oidc.forget_metadata()
            flash(_("Fournisseur d'identité « %(name)s » enregistré.", name=saved.name),
                  "success")
            return redirect(url_for("identity.admin"))
    organisations = db.session.scalars(select(Organisation.name).order_by(Organisation.name))
    return render_template(
        "admin/identity_provider.html", provider=provider, values=values, errors=errors,
        organisations=list(organisations), redirect_uri=redirect_uri(),
    ), (422 if errors else 200)


@bp.route("/admin/identity/unlink", methods=["POST"])
@allow(MANAGER)
def unlink():
    try:
        removed = idp.unlink(db.session, request.form.get("provider", ""),
                             request.form.get("email", ""))
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("Compte délié : sa prochaine connexion liera sa nouvelle identité.")
              if removed else _("Ce compte n'était lié à aucune identité de ce fournisseur."),
              "success" if removed else "info")
    return redirect(url_for("identity.admin"))


@bp.route("/admin/identity/provider/<provider_id>/delete", methods=["POST"])
@allow(MANAGER)
def provider_delete(provider_id: str):
    try:
        provider = db.session.get(IdentityProvider, (g.tenant.id, uuid.UUID(provider_id)))
    except ValueError:
        provider = None
    if provider is None:
        abort(404)
    try:
        idp.remove_provider(db.session, provider.name, tenant=g.tenant)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("Fournisseur d'identité supprimé."), "success")
    return redirect(url_for("identity.admin"))
