"""Sessions: Flask-Login loading, session renewal at login, idle and absolute timeouts."""

from __future__ import annotations

import uuid

from flask import Flask, current_app, g, request, session, url_for
from flask_login import LoginManager, login_user, logout_user
from sqlalchemy import bindparam, func, select

from .. import adopted_rows, audit, clock, tenancy
from ..accounts import oidc, sign_in_guard, totp
from ..accounts.credentials import burn_password_time, verify_password
from ..db import db
from ..models import Operator, Organisation, User
from .client import client_address

login_manager = LoginManager()
login_manager.login_view = "web.login"
login_manager.login_message = "Identifiez-vous pour accéder à cette page."
login_manager.session_protection = "strong"


#: The signed-in user of a page with the user's organisation (which the ORM loads with a
#: user), one Core read under the tenant wall built once (every page reads it), the rows
#: adopted as loaded objects (``core.adopted_rows``).
_USER_BY_ID = tenancy.scoped_select(
    select(*adopted_rows.columns(User, "user_"), *adopted_rows.columns(Organisation, "org_"))
    .join_from(User.__table__, Organisation.__table__,
               Organisation.__table__.c.id == User.__table__.c.organisation_id)
    .where(User.__table__.c.id == bindparam("uid")))


@login_manager.user_loader
def _load(user_id: str):
    parts = user_id.split(":")
    try:
        if parts[0] == "o" and len(parts) == 3:
            operator = db.session.get(Operator, int(parts[1]))
            if operator and operator.active and operator.session_version == int(parts[2]):
                return operator
            return None
        if parts[0] == "u" and len(parts) == 4:
            tenant_id, uid, version = int(parts[1]), uuid.UUID(parts[2]), int(parts[3])
            # A session belongs to one tenant: on another tenant's pages it is anonymous.
            if tenancy.current_tenant_id() != tenant_id:
                return None
            found = tenancy.scoped_rows(db.session, _USER_BY_ID, {"uid": uid})
            row = found[0] if found else None
            if row is not None and row.user_active and row.user_session_version == version:
                organisation = adopted_rows.adopted(db.session, Organisation, "org_", row)
                return adopted_rows.adopted(db.session, User, "user_", row,
                                            organisation=organisation)
    except (ValueError, IndexError):
        return None
    return None


def authenticate(model, email: str, password: str) -> tuple:
    """Check a sign-in against ``model`` (``User`` in the current tenant, or ``Operator``).

    Returns ``(account, ok)``: ``account`` is whoever the e-mail names (``None`` when no
    one), ``ok`` whether it is active and the password matches. An unknown e-mail costs the
    time of a real verification, so the answer's delay does not reveal who has an account.
    """
    account = db.session.scalar(select(model).where(func.lower(model.email) == email))
    if account is None:
        burn_password_time(password)
        return None, False
    return account, bool(account.active and verify_password(account.password_hash, password))


def guarded_authenticate(model, email: str, password: str) -> tuple:
    """``authenticate`` behind the sign-in throttle (``core.accounts.sign_in_guard``).

    Returns ``(account, ok, wait)``: ``wait`` > 0 when the attempt came too early (the
    password was not checked; answer 429 with ``Retry-After: wait``)."""
    tenant = g.get("tenant")
    scope = tenant.id if model is User and tenant is not None else "platform"
    address = client_address(request)
    wait = sign_in_guard.check(scope, email, address)
    if wait:
        return None, False, wait
    account, ok = authenticate(model, email, password)
    if ok:
        sign_in_guard.succeeded(scope, email, address)
    else:
        sign_in_guard.failed(scope, email, address)
    return account, ok, 0


def start_session(user, extra: dict | None = None) -> None:
    """Log ``user`` in on a fresh session (no fixation: the old session ends, a new id).
    ``extra``: what the way of signing in keeps for the session's life (the identity
    provider and ID token an OpenID Connect sign-out needs, under ``ccas_oidc``)."""
    session.clear()
    session.regenerate()
    login_user(user)
    now = int(clock.timestamp())
    session["ccas_login_at"] = now
    session["ccas_seen_at"] = now
    session.update(extra or {})
    session.permanent = False


def second_factor_required(account) -> bool:
    """Whether ``account`` must have a second factor: the tenant's rule for its CCAS staff
    (``totp.required_for``), ``CCAS_OPERATOR_TOTP_REQUIRED`` for platform operators."""
    if getattr(account, "is_operator", False):
        return bool(current_app.config.get("CCAS_OPERATOR_TOTP_REQUIRED"))
    return totp.required_for(g.get("tenant"), account)


def second_factor_step(account) -> str | None:
    """After a right password: ``"verify"`` (the account has a second factor), ``"enrol"``
    (one is required and the account does not have it yet) or ``None``."""
    if totp.is_enabled(db.session, account):
        return "verify"
    if second_factor_required(account):
        return "enrol"
    return None


def complete_login(account, session_extra: dict | None = None, **detail) -> None:
    """Log this account in: record the sign-in and open the session (every factor
    checked). Every way of signing in ends here (password, OpenID Connect, after the
    second factor). A tenant user's sign-in goes to the tenant's audit trail; an operator
    has no tenant to record it in."""
    if not getattr(account, "is_operator", False):
        account.last_login_at = clock.now()
        audit.record(db.session, "login", account, actor=account, **detail)
    db.session.commit()
    start_session(account, session_extra)


def sign_in(account, next_url: str, session_extra: dict | None = None, **detail) -> str:
    """After the first factor (a right password, a verified OpenID Connect identity) of a
    tenant user: open the session, or start the second factor when the account has one
    or must enrol one. Returns where to send the browser."""
    step = second_factor_step(account)
    if step is not None:
        db.session.commit()
        begin_second_factor(account, step, next_url, session_extra, **detail)
        return url_for("account.login_code" if step == "verify" else "account.login_enrol")
    complete_login(account, session_extra, **detail)
    return next_url


def provider_logout_url() -> str | None:
    """For a session opened through OpenID Connect: the provider's end-session URL (our
    ID token as hint, back to our sign-in page after), so that signing out here signs
    out there too; ``None`` otherwise. Read it before the session is cleared."""
    signed_in_with = session.get("ccas_oidc") or {}
    if not signed_in_with.get("p"):
        return None
    provider = oidc.active_provider(db.session, signed_in_with.get("p", ""))
    if provider is None:
        return None
    back = current_app.config["CCAS_BASE_URL"].rstrip("/") + url_for("web.login")
    return oidc.logout_url(provider, signed_in_with.get("id_token"), back)


def end_session() -> None:
    logout_user()
    session.clear()


#: Seconds a password-checked sign-in may wait for its second factor.
SECOND_FACTOR_SECONDS = 300


def begin_second_factor(account, mode: str, next_url: str, session_extra: dict | None = None,
                        **detail) -> None:
    """The first factor was right; the session is not open until the second factor is
    given (``mode`` ``"verify"``) or enrolled (``mode`` ``"enrol"``, when it is required).
    ``session_extra`` and ``detail`` are handed to :func:`complete_login` then."""
    session.clear()
    session.regenerate()
    session["ccas_2fa"] = {
        "extra": session_extra or {},
        "detail": detail,
        "kind": "o" if getattr(account, "is_operator", False) else "u",
        "tid": account.tenant_id,
        "uid": str(account.id),
        "v": account.session_version,
        "at": int(clock.timestamp()),
        "mode": mode,
        "next": next_url,
    }


def pending_second_factor(mode: str | None = None, kind: str = "u"):
    """``(account, pending)`` waiting for its second factor, or ``(None, {})`` when there
    is none, it expired, or the account changed since the password step. ``kind``: ``"u"``
    a user of the current tenant, ``"o"`` a platform operator (no tenant)."""
    pending = session.get("ccas_2fa") or {}
    if not pending or pending.get("kind", "u") != kind or (
            mode is not None and pending.get("mode") != mode):
        return None, {}
    if int(clock.timestamp()) - int(pending.get("at", 0)) > SECOND_FACTOR_SECONDS:
        session.pop("ccas_2fa", None)
        g.ccas_session_expired = True
        return None, {}
    if tenancy.current_tenant_id() != pending.get("tid"):
        return None, {}
    try:
        if kind == "o":
            account = db.session.get(Operator, int(pending["uid"]))
        else:
            uid = uuid.UUID(pending["uid"])
            account = db.session.scalar(select(User).where(User.id == uid))
    except (KeyError, ValueError):
        return None, {}
    if account is None or not account.active or account.session_version != pending.get("v"):
        session.pop("ccas_2fa", None)
        return None, {}
    return account, pending


def _enforce_timeouts() -> None:
    if "_user_id" not in session:
        return
    now = int(clock.timestamp())
    idle = current_app.config["CCAS_SESSION_IDLE_MINUTES"] * 60
    absolute = current_app.config["CCAS_SESSION_MAX_HOURS"] * 3600
    login_at = session.get("ccas_login_at", 0)
    seen_at = session.get("ccas_seen_at", 0)
    if now - seen_at > idle or now - login_at > absolute:
        session.clear()
        g.ccas_session_expired = True
        return
    if now - seen_at > 60:  # avoid rewriting the cookie on every request
        session["ccas_seen_at"] = now


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.before_request(_enforce_timeouts)
