"""Hand-written equivalents of the application's HTML pages, for ``request_speed.py``.

Each page does what the application's page does, written by hand: Flask and SQLAlchemy
Core, the same authentication (the session cookie → the server-side session row → the
tenant of the URL → the user, as ``core.web.sessions`` and ``core.web.auth`` do), the same
reads (its SQL written out below, page by page), the same audit row in the same
transaction, and **the same HTML**: the application's own templates rendered by a plain
Jinja environment set up here (no Flask templating, no context processors, no plugin
hooks). What the application computes from its registry and does not read per request
(the menu of a role on a page, the French labels, the referral statuses' table) is taken
from it once at start (:func:`page_context`), as the other hand-written endpoints take the
workflow's labels. :func:`same_page` compares the two responses once the per-request
secrets (CSRF tokens) are normalised; the benchmark checks it before timing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import abort, request
from itsdangerous import URLSafeTimedSerializer
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

# -- authentication: the session cookie -------------------------------------------------

#: The server-side session of the cookie (``core.web.sessions.DatabaseStore.load``).
SESSION_SQL = """
SELECT data, expires_at FROM web_sessions WHERE secret_hash = :secret_hash"""
#: The tenant of the URL (``core.web.context._resolve``).
TENANT_SQL = """
SELECT id, slug, name, timezone, suspended_at FROM tenants WHERE slug = :slug"""
#: The signed-in user and their organisation (``core.web.auth._load``; the base layout
#: shows the organisation's name).
USER_SQL = """
SELECT u.id, u.email, u.full_name, u.role, u.active, u.session_version, u.organisation_id,
       o.name AS organisation_name
FROM users u LEFT JOIN organisations o ON o.tenant_id = u.tenant_id AND o.id = u.organisation_id
WHERE u.tenant_id = :tenant_id AND u.id = :user_id"""

# -- the partner portal's list (``core.web.referrals.index``) ----------------------------

#: The referrals the partner sends or receives, the last change first, at most 500, with
#: both organisations (the columns the table shows and the grouping needs).
PORTAL_SQL = """
SELECT r.id, r.status, r.first_name, r.last_name, r.status_changed_at,
       r.from_organisation_id, fo.name AS from_name, fo.kind AS from_kind,
       r.to_organisation_id, tor.name AS to_name, tor.kind AS to_kind
FROM referrals r
JOIN organisations fo ON fo.tenant_id = r.tenant_id AND fo.id = r.from_organisation_id
JOIN organisations tor ON tor.tenant_id = r.tenant_id AND tor.id = r.to_organisation_id
WHERE r.tenant_id = :tenant_id
  AND (r.from_organisation_id = :org_id OR r.to_organisation_id = :org_id)
ORDER BY r.status_changed_at DESC, r.updated_at DESC, r.id DESC LIMIT 500"""

#: The per-request secrets of a page, normalised before two pages are compared.
_SECRETS = re.compile(r'(name="csrf_token" value=")[^"]*(")|(content=")[^"]*(" name="csrf)')


def same_page(app_html: str, hand_html: str) -> tuple[bool, str]:
    """Whether the two pages are the same once their CSRF tokens are normalised; when not,
    the first difference (a few lines of context) for the report."""
    a, b = (_SECRETS.sub(r"\1\3TOKEN\2\4", html) for html in (app_html, hand_html))
    if a == b:
        return True, ""
    import difflib

    diff = list(difflib.unified_diff(a.splitlines(), b.splitlines(), "app", "hand", n=2,
                                     lineterm=""))
    return False, "\n".join(diff[:40])


def page_context(app, ctx: dict) -> dict:
    """What the hand-written pages take from the application once, at start (none of it is
    read per request by the application either: its registry and its configuration): the
    template folders, the URL map, the French labels, the menu of each role on each page,
    the session cookie's name and the secret the CSRF tokens are signed with."""
    from flask import g
    from flask_login import login_user
    from sqlalchemy import select

    from core import labels, tenancy
    from core.db import db
    from core.models import REFERRAL_STATUS_LABELS, Tenant, User
    from core.models.referral import AWAITING_ANSWER
    from core.models.referral import TONES as REFERRAL_TONES
    from core.web import context as web_context

    folders = list(app.jinja_loader.searchpath)
    for bp in app.blueprints.values():
        if bp.jinja_loader is not None:
            folders += [p for p in bp.jinja_loader.searchpath if p not in folders]
    menus = {}
    pages = {"referrer": [("referrals.index", f"/t/{ctx['slug']}/orientations/")],
             "manager": [("web.dashboard", f"/t/{ctx['slug']}/")]}
    for role, role_pages in pages.items():
        for endpoint, path in role_pages:
            with app.test_request_context(path), tenancy.tenant_scope(ctx["tenant_id"]):
                g.tenant = db.session.get(Tenant, ctx["tenant_id"])
                user = db.session.scalar(select(User).where(
                    User.email == f"{role}@{ctx['slug']}.test"))
                login_user(user)
                menus[(role, endpoint)] = web_context.menu()
                vocabularies = labels.vocabularies()
                db.session.rollback()
    return {"folders": folders, "url_map": app.url_map, "menus": menus,
            "vocabularies": vocabularies, "referral_status_labels": REFERRAL_STATUS_LABELS,
            "referral_tones": dict(REFERRAL_TONES),
            "awaiting_answer": {str(s) for s in AWAITING_ANSWER},
            "cookie": app.config["SESSION_COOKIE_NAME"], "secret_key": app.secret_key}


class Pages:
    """The hand-written pages, added to the hand-written application (``Hand``)."""

    def __init__(self, hand, context: dict):
        self.hand = hand
        self.c = context
        s = hand._sql
        self.q_session = s(SESSION_SQL, "web_sessions")
        self.q_tenant = s(TENANT_SQL, "tenants")
        self.q_user = s(USER_SQL, "users")
        self.q_portal = s(PORTAL_SQL, "referrals")
        self.env = Environment(loader=ChoiceLoader([FileSystemLoader(f)
                                                    for f in context["folders"]]),
                               autoescape=select_autoescape(),
                               extensions=["jinja2.ext.i18n"])
        self.env.install_null_translations(newstyle=True)  # UI text is French in source
        self.urls = context["url_map"].bind("localhost")
        self.tenant_endpoints = {rule.endpoint for rule in context["url_map"].iter_rules()
                                 if "tenant" in rule.arguments}
        self.csrf = URLSafeTimedSerializer(context["secret_key"], salt="wtf-csrf-token")
        vocab = context["vocabularies"]
        self.env.filters["label"] = lambda code, name: vocab.get(name, {}).get(
            str(code), "" if code in (None, "") else str(code))
        self.env.filters["datetime_fr"] = self._datetime_fr
        # globals, as the macros imported without context see them; the per-request values
        # (tenant, token) in ``self.page``
        self.env.globals.update(referral_badge=self._referral_badge, row_url=self._row_url,
                                get_flashed_messages=lambda **_kw: [], url_for=self.url_for,
                                csrf_token=lambda: self.page["token"])
        from core import sorting
        from core.web.referrals import referral_sort_spec

        self.portal_sorting = sorting.sort_from({}, referral_sort_spec())  # the default sort
        self.badges = {code: Markup('<span class="badge badge-%s">%s</span>') % (
            context["referral_tones"].get(code, "in_progress"),
            vocab["referral_status"].get(code, code))
            for code in vocab["referral_status"]}

    # -- the page's helpers -------------------------------------------------------------

    def url_for(self, endpoint, **values):
        if endpoint in self.tenant_endpoints:
            values.setdefault("tenant", self.page["tenant"].slug)
        return self.urls.build(endpoint, values)

    def _row_url(self, endpoint, key, **values):
        head, _, tail = self.url_for(endpoint, **{key: "0rowurl0", **values}
                                     ).partition("0rowurl0")
        return lambda value: f"{head}{value}{tail}"

    def _referral_badge(self, code):
        return self.badges[str(code)]

    def _datetime_fr(self, value):
        if value is None:
            return ""
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(self.page["zone"]).strftime("%d/%m/%Y %H:%M")

    # -- authentication ------------------------------------------------------------------

    def signed_in(self, conn, slug: str):
        """The session cookie's user on the tenant ``slug``, with the tenant, set for the
        transaction; 403/404 as the application answers."""
        from core.models.base import is_tenant_model  # noqa: F401  (models loaded)

        sid = request.cookies.get(self.c["cookie"]) or abort(403)
        now = dt.datetime.now(dt.UTC)
        row = conn.execute(self.q_session, {"secret_hash": hashlib.sha256(
            sid.encode()).hexdigest()}).first()
        if row is None or _aware(row[1]) <= now:
            abort(403)
        data = row[0] if isinstance(row[0], dict) else __import__("json").loads(row[0])
        tenant = conn.execute(self.q_tenant, {"slug": slug}).mappings().first()
        if tenant is None:
            abort(404)
        if tenant["suspended_at"] is not None:
            abort(403)
        parts = str(data.get("_user_id") or "").split(":")
        if len(parts) != 4 or parts[0] != "u" or int(parts[1]) != tenant["id"]:
            abort(403)
        self.hand._begin(conn, tenant["id"])
        user = conn.execute(self.q_user, {"tenant_id": tenant["id"],
                                          "user_id": uuid.UUID(parts[2])}).mappings().first()
        if user is None or not user["active"] or user["session_version"] != int(parts[3]):
            abort(403)
        t = SimpleNamespace(id=tenant["id"], slug=tenant["slug"], name=tenant["name"],
                            zone=ZoneInfo(tenant["timezone"] or "Europe/Paris"))
        u = SimpleNamespace(
            id=_uuid(user["id"]), email=user["email"], full_name=user["full_name"],
            role=str(user["role"]), is_authenticated=True, is_operator=False,
            organisation_id=_uuid(user["organisation_id"]),
            organisation=SimpleNamespace(name=user["organisation_name"]),
            csrf=data.get("csrf_token", ""))
        return t, u

    def render(self, template: str, tenant, user, endpoint: str, **values) -> str:
        self.page = {"tenant": tenant, "zone": tenant.zone,
                     "token": self.csrf.dumps(user.csrf)}
        menu = self.c["menus"].get((user.role, endpoint))
        return self.env.get_template(template).render(
            tenant=tenant, current_user=user, menu=lambda: menu,
            request=SimpleNamespace(endpoint=endpoint), **values)

    # -- pages ----------------------------------------------------------------------------

    def portal(self, slug: str):
        """``GET /t/<tenant>/orientations/`` for a partner (``core.web.referrals.index``)."""
        hand = self.hand
        with hand.engine.begin() as conn:
            tenant, user = self.signed_in(conn, slug)
            conn.execute(hand.q_plugins, {"tenant_id": tenant.id}).all()  # the menu's plugins
            org = user.organisation_id
            rows = []
            for r in conn.execute(self.q_portal, {"tenant_id": tenant.id, "org_id": org}):
                rid = _uuid(r[0])
                rows.append(SimpleNamespace(
                    id=rid, reference=rid.hex[:8].upper(), status=r[1], first_name=r[2],
                    last_name=r[3], status_changed_at=r[4], from_organisation_id=_uuid(r[5]),
                    from_organisation=SimpleNamespace(name=r[6], kind=r[7]),
                    to_organisation_id=_uuid(r[8]),
                    to_organisation=SimpleNamespace(name=r[9], kind=r[10])))
            hand._audit_page(conn, tenant.id, user, "referral.list",
                             ids=[str(r.id) for r in rows], count=len(rows), surface="page")
        awaiting = self.c["awaiting_answer"]
        to_answer = [r for r in rows if r.status in awaiting and r.to_organisation_id == org]
        sent = [r for r in rows if r.from_organisation_id == org]
        answered = {id(r) for r in to_answer}
        received = [r for r in rows if r.to_organisation_id == org and id(r) not in answered]
        return self.render(
            "referrals/index.html", tenant, user, "referrals.index", to_answer=to_answer,
            sent=sent, received=received, status="",
            status_labels=self.c["referral_status_labels"], may_submit=user.role == "referrer",
            sorting=self.portal_sorting, query={})


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _aware(value):
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
