"""The TOTP pages, one code path for tenant users (``core.web.account``) and platform
operators (``core.web.operator``): the code step and the enrolment step at sign-in, the
account's security page, enrolment and disabling.

Each blueprint's views call these functions with a :class:`Place` naming its own pages;
the services are ``core.accounts.totp``'s, the pending sign-in is ``core.web.auth``'s, and the
throttling of the two sign-in steps is set in ``core.accounts.throttle`` for both blueprints.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import audit
from ..accounts import totp
from ..db import db
from ..errors import UserError
from .auth import complete_login, pending_second_factor, second_factor_required

log = logging.getLogger(__name__)

#: The issuer shown in authenticator apps (followed by the tenant's name, or "Opérateur").
ISSUER = "Microcrédit accompagné"


@dataclass(frozen=True)
class Place:
    """Where one kind of account signs in and manages its second factor (endpoints)."""

    kind: str  # "u": a tenant user, "o": a platform operator
    login: str  # the password step
    home: str  # where a completed sign-in goes by default
    security: str
    enrol: str
    disable: str
    issuer: str  # the name shown in the authenticator app

    @property
    def operator(self) -> bool:
        return self.kind == "o"

    def urls(self) -> dict:
        return {"login_url": url_for(self.login), "security_url": url_for(self.security),
                "enrol_url": url_for(self.enrol), "disable_url": url_for(self.disable),
                "operator": self.operator}


def _enrolment_context(place: Place, account) -> dict:
    secret = totp.pending_secret(db.session, account)
    db.session.commit()  # the same secret on a reload, until it is confirmed
    return {
        "secret": totp.grouped(secret),
        "uri": totp.provisioning_uri(secret, account.email, place.issuer),
        **place.urls(),
    }


# -- at sign-in (public pages: the password step opened them) -----------------------------


def code_step(place: Place):
    """The code (or a recovery code) after a right password."""
    account, pending = pending_second_factor("verify", place.kind)
    if account is None:
        return redirect(url_for(place.login))
    error = None
    if request.method == "POST":
        factor = totp.verify(db.session, account, request.form.get("code", ""))
        if factor is not None:
            complete_login(account, pending.get("extra"), second_factor=factor,
                           **pending.get("detail", {}))
            if factor == "recovery":
                remaining = totp.remaining_recovery_codes(db.session, account)
                flash(_("Code de secours utilisé : il vous en reste %(remaining)s.",
                        remaining=remaining), "info")
            return redirect(pending.get("next") or url_for(place.home))
        if place.operator:  # no tenant, no audit trail: the application log
            log.warning("operator %s: wrong second-factor code", account.id)
        else:
            audit.record(db.session, "login.failed", account, actor=account,
                         step="second_factor")
            db.session.commit()
        error = _("Code incorrect ou déjà utilisé.")
    return render_template("account/login_code.html", error=error, **place.urls()), (
        401 if error else 200)


def _confirm_enrolment(account) -> tuple[list[str] | None, dict]:
    """Check the posted code against the pending secret: the recovery codes, or the
    form's errors (the session rolled back)."""
    try:
        return totp.confirm_enrolment(db.session, account, request.form.get("code", "")), {}
    except UserError as exc:
        db.session.rollback()
        return None, {"code": [exc.message]}


def enrol_step(place: Place):
    """A second factor is required and the account has none: enrol now to sign in."""
    account, pending = pending_second_factor("enrol", place.kind)
    if account is None:
        return redirect(url_for(place.login))
    errors: dict = {}
    if request.method == "POST":
        codes, errors = _confirm_enrolment(account)
        if codes is not None:
            complete_login(account, pending.get("extra"), second_factor="totp_enrolment",
                           **pending.get("detail", {}))
            return render_template(
                "account/recovery_codes.html", codes=codes,
                next_url=pending.get("next") or url_for(place.home),
            )
    return render_template(
        "account/totp_enrol.html", errors=errors, at_login=True,
        **_enrolment_context(place, account),
    ), (401 if errors else 200)


# -- the signed-in account's own pages -----------------------------------------------------


def security_page(place: Place, account):
    enabled = totp.is_enabled(db.session, account)
    return render_template(
        "account/security.html",
        enabled=enabled,
        required=second_factor_required(account),
        remaining=totp.remaining_recovery_codes(db.session, account) if enabled else 0,
        **place.urls(),
    )


def enrol_page(place: Place, account):
    if totp.is_enabled(db.session, account):
        return redirect(url_for(place.security))
    errors: dict = {}
    if request.method == "POST":
        codes, errors = _confirm_enrolment(account)
        if codes is not None:
            db.session.commit()
            return render_template("account/recovery_codes.html", codes=codes,
                                   next_url=url_for(place.security))
    return render_template(
        "account/totp_enrol.html", errors=errors, at_login=False,
        **_enrolment_context(place, account),
    ), (422 if errors else 200)


def disable(place: Place, account):
    """Disable the second factor, with a valid code; refused when it is required."""
    if second_factor_required(account):
        if place.operator:
            message = _("La plateforme impose la double authentification à ses opérateurs : "
                        "elle ne peut pas être désactivée.")
        else:
            message = _("Votre territoire impose la double authentification : elle ne peut "
                        "pas être désactivée.")
        raise UserError(message, status=403)
    if totp.verify(db.session, account, request.form.get("code", "")) is None:
        db.session.rollback()
        flash(_("Code incorrect : la double authentification reste activée."), "error")
        return redirect(url_for(place.security))
    totp.disable(db.session, account)
    db.session.commit()
    flash(_("Double authentification désactivée."), "success")
    return redirect(url_for(place.security))
