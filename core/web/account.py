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

from .. import password_reset, totp
from ..db import db
from ..errors import UserError
from ..policy import ALL_TENANT_ROLES, allow, public
from . import sections
from .auth import complete_login, pending_second_factor

bp = Blueprint("account", __name__, url_prefix="/t/<tenant>")

sections.nav_item("Sécurité du compte", "account.security", ALL_TENANT_ROLES, order=990)

ISSUER = "Microcrédit accompagné"
WRONG_CODE = "Code incorrect ou déjà utilisé."


def _issuer() -> str:
    tenant = g.get("tenant")
    return f"{ISSUER} – {tenant.name}" if tenant is not None else ISSUER


def _enrolment_context(user) -> dict:
    secret = totp.pending_secret(db.session, user)
    db.session.commit()  # the same secret on a reload, until it is confirmed
    return {
        "secret": totp.grouped(secret),
        "uri": totp.provisioning_uri(secret, user.email, _issuer()),
    }


# -- second factor at sign-in --------------------------------------------------------------


@bp.route("/login/code", methods=["GET", "POST"])
@public
def login_code():
    user, pending = pending_second_factor("verify")
    if user is None:
        return redirect(url_for("web.login"))
    error = None
    if request.method == "POST":
        factor = totp.verify(db.session, user, request.form.get("code", ""))
        if factor is not None:
            complete_login(user, second_factor=factor)
            if factor == "recovery":
                remaining = totp.remaining_recovery_codes(db.session, user)
                flash(f"Code de secours utilisé : il vous en reste {remaining}.", "info")
            return redirect(pending.get("next") or url_for("web.dashboard"))
        from .. import audit

        audit.record(db.session, "login.failed", user, actor=user, step="second_factor")
        db.session.commit()
        error = WRONG_CODE
    return render_template("account/login_code.html", error=error), (401 if error else 200)


@bp.route("/login/enrolment", methods=["GET", "POST"])
@public
def login_enrol():
    """The tenant requires a second factor this user has not set up: enrol now."""
    user, pending = pending_second_factor("enrol")
    if user is None:
        return redirect(url_for("web.login"))
    errors: dict = {}
    if request.method == "POST":
        try:
            codes = totp.confirm_enrolment(db.session, user, request.form.get("code", ""))
        except UserError as exc:
            db.session.rollback()
            errors = {"code": [exc.message]}
        else:
            complete_login(user, second_factor="totp_enrolment")
            return render_template(
                "account/recovery_codes.html", codes=codes,
                next_url=pending.get("next") or url_for("web.dashboard"),
            )
    return render_template(
        "account/totp_enrol.html", errors=errors, at_login=True,
        **_enrolment_context(user),
    ), (401 if errors else 200)


# -- the user's own security page ---------------------------------------------------------


@bp.route("/account/security")
@allow(*sorted(ALL_TENANT_ROLES))
def security():
    enabled = totp.is_enabled(db.session, current_user)
    return render_template(
        "account/security.html",
        enabled=enabled,
        required=totp.required_for(g.tenant, current_user),
        remaining=totp.remaining_recovery_codes(db.session, current_user) if enabled else 0,
    )


@bp.route("/account/security/totp", methods=["GET", "POST"])
@allow(*sorted(ALL_TENANT_ROLES))
def totp_enrol():
    if totp.is_enabled(db.session, current_user):
        return redirect(url_for("account.security"))
    errors: dict = {}
    if request.method == "POST":
        try:
            codes = totp.confirm_enrolment(db.session, current_user,
                                           request.form.get("code", ""))
        except UserError as exc:
            db.session.rollback()
            errors = {"code": [exc.message]}
        else:
            db.session.commit()
            return render_template("account/recovery_codes.html", codes=codes,
                                   next_url=url_for("account.security"))
    return render_template(
        "account/totp_enrol.html", errors=errors, at_login=False,
        **_enrolment_context(current_user),
    ), (422 if errors else 200)


@bp.route("/account/security/totp/disable", methods=["POST"])
@allow(*sorted(ALL_TENANT_ROLES))
def totp_disable():
    if totp.required_for(g.tenant, current_user):
        raise UserError("Votre territoire impose la double authentification : elle ne peut "
                        "pas être désactivée.", status=403)
    if totp.verify(db.session, current_user, request.form.get("code", "")) is None:
        db.session.rollback()
        flash("Code incorrect : la double authentification reste activée.", "error")
        return redirect(url_for("account.security"))
    totp.disable(db.session, current_user)
    db.session.commit()
    flash("Double authentification désactivée.", "success")
    return redirect(url_for("account.security"))


# -- password reset -----------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
def password_forgot():
    sent = False
    if request.method == "POST":
        password_reset.request_reset(
            db.session, g.tenant, request.form.get("email", ""),
            current_app.config["CCAS_BASE_URL"],
        )
        db.session.commit()
        sent = True
    return render_template("account/password_forgot.html", sent=sent)


@bp.route("/password/reset/<token>", methods=["GET", "POST"], endpoint="password_reset")
@public
def password_reset_view(token: str):
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
