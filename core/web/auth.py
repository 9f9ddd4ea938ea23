"""Sessions: Flask-Login loading, session renewal at login, idle and absolute timeouts."""

from __future__ import annotations

import time
import uuid

from flask import Flask, current_app, g, session
from flask_login import LoginManager, login_user, logout_user
from sqlalchemy import select

from .. import tenancy
from ..db import db
from ..models import Operator, User

login_manager = LoginManager()
login_manager.login_view = "web.login"
login_manager.login_message = "Identifiez-vous pour accéder à cette page."
login_manager.session_protection = "strong"


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
            user = db.session.scalar(select(User).where(User.id == uid))
            if user and user.active and user.session_version == version:
                return user
    except (ValueError, IndexError):
        return None
    return None


def start_session(user) -> None:
    """Log ``user`` in on a fresh session (no fixation: the old session content is dropped)."""
    session.clear()
    login_user(user)
    now = int(time.time())
    session["ccas_login_at"] = now
    session["ccas_seen_at"] = now
    session.permanent = False


def end_session() -> None:
    logout_user()
    session.clear()


def _enforce_timeouts() -> None:
    if "_user_id" not in session:
        return
    now = int(time.time())
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
