"""Account security pages: second factor at sign-in (code or enrolment), the user's own
security page (TOTP enrolment, recovery codes), password reset by e-mail."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from .. import audit
from ..accounts import identity_providers, password_reset
from ..db import db
from ..errors import UserError
from ..hookspecs import hookimpl
from ..plugins.types import NavItem
from ..policy import ALL_TENANT_ROLES, allow, public
from . import second_factor, session_pages

bp = Blueprint("account", __name__, url_prefix="/t/<tenant>")



@hookimpl
def ccas_nav_items():
    return [NavItem("Sécurité du compte", "account.security", ALL_TENANT_ROLES, order=990,
                    section="Mon compte"),
            NavItem("Sessions ouvertes", "account.sessions_page", ALL_TENANT_ROLES, order=991,
                    section="Mon compte")]


def _place() -> second_factor.Place:
    tenant = g.get("tenant")
    return second_factor.Place(
        kind="u", login="web.login", home="web.dashboard", security="account.security",
        enrol="account.totp_enrol", disable="account.totp_disable",
        issuer=f"{second_factor.ISSUER} – {tenant.name}" if tenant is not None
        else second_factor.ISSUER,
    )


# -- second factor at sign-in (core.web.second_factor, shared with operators) --------------


@bp.route("/login/code", methods=["GET", "POST"])
@public
def login_code():
    return second_factor.code_step(_place())


@bp.route("/login/enrolment", methods=["GET", "POST"])
@public
def login_enrol():
    """The tenant requires a second factor this user has not set up: enrol now."""
    return second_factor.enrol_step(_place())


# -- the user's own security page ---------------------------------------------------------


@bp.route("/account/security")
@allow(ALL_TENANT_ROLES)
def security():
    return second_factor.security_page(_place(), current_user)


@bp.route("/account/security/totp", methods=["GET", "POST"])
@allow(ALL_TENANT_ROLES)
def totp_enrol():
    return second_factor.enrol_page(_place(), current_user)


@bp.route("/account/security/totp/disable", methods=["POST"])
@allow(ALL_TENANT_ROLES)
def totp_disable():
    return second_factor.disable(_place(), current_user)


# -- one's open sessions (core.web.sessions) ---------------------------------------------


def _sessions_place() -> session_pages.Place:
    def record(action: str, **details) -> None:
        audit.record(db.session, action, current_user, **details)
        db.session.commit()

    return session_pages.Place("account.sessions_page", "account.end_one_session",
                               "account.end_other_sessions", record)


@bp.route("/account/sessions")
@allow(ALL_TENANT_ROLES)
def sessions_page():
    """The user's open sessions: when and where each was opened and last used."""
    return session_pages.page(_sessions_place())


@bp.route("/account/sessions/<session_id>/end", methods=["POST"])
@allow(ALL_TENANT_ROLES)
def end_one_session(session_id: str):
    """End one of the user's other sessions (this one ends with "Se déconnecter")."""
    return session_pages.end_one(_sessions_place(), session_id)


@bp.route("/account/sessions/end-others", methods=["POST"])
@allow(ALL_TENANT_ROLES)
def end_other_sessions():
    """End every session of the user but this one."""
    return session_pages.end_others(_sessions_place())


# -- password reset -----------------------------------------------------------------------


def _passwords_off():
    """The tenant signs in through its identity provider only: no password to reset."""
    flash("Ce territoire n'utilise pas de mot de passe : connectez-vous avec votre "
          "fournisseur d'identité.", "info")
    return redirect(url_for("web.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
def password_forgot():
    if not identity_providers.password_sign_in_allowed(g.tenant):
        return _passwords_off()
    sent = False
    if request.method == "POST":
        password_reset.request_reset(
            db.session, g.tenant, request.form.get("email", ""),
            current_app.config["CCAS_BASE_URL"], current_app.config["SECRET_KEY"],
        )
        db.session.commit()
        sent = True
    return render_template("account/password_forgot.html", sent=sent)


@bp.route("/password/reset/<token>", methods=["GET", "POST"], endpoint="password_reset")
@public
def password_reset_view(token: str):
    if not identity_providers.password_sign_in_allowed(g.tenant):
        return _passwords_off()
    if password_reset.valid_token(db.session, token) is None:
        return render_template("account/password_reset.html", invalid=True, errors={},
                               token=""), 400
    errors: dict = {}
    if request.method == "POST":
        try:
            password_reset.reset_password(
                db.session, token, request.form.get("password", ""),
                request.form.get("confirmation", ""),
            )
        except UserError as exc:
            db.session.rollback()
            errors = exc.errors or {"password": [exc.message]}
        else:
            db.session.commit()
            flash("Mot de passe modifié : connectez-vous avec le nouveau.", "success")
            return redirect(url_for("web.login"))
    return render_template("account/password_reset.html", invalid=False, errors=errors,
                           token=token), (422 if errors else 200)
