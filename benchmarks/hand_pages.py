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
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import abort, request
from itsdangerous import URLSafeTimedSerializer
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from benchmarks.hand_case_page import CasePage, case_page_context

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
  AND (r.from_organisation_id = :org_id OR r.to_organisation_id = :org_id){awaiting}
ORDER BY r.status_changed_at DESC, r.updated_at DESC, r.id DESC LIMIT :limit"""
#: the list's cap (``core.web.referrals.LIST_CAP``): beyond, the awaiting ones are read too
PORTAL_CAP = 500

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

    from core import labels, plugins, tenancy
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
                if role == "manager":  # the blocks of the manager's dashboard, in order
                    panels = plugins.hooks().ccas_dashboard_panels.answers(user=user).flat()
                    panels.sort(key=lambda p: p.order)
                vocabularies = labels.vocabularies()
                db.session.rollback()
    case = case_page_context(app, ctx)
    menus.update({(role, "cases.case_page"): menu for role, menu in case["menus"].items()})
    return {"folders": folders, "url_map": app.url_map, "menus": menus, "case": case,
            "dashboard": dashboard_context(app, ctx, panels),
            "vocabularies": vocabularies, "referral_status_labels": REFERRAL_STATUS_LABELS,
            "referral_tones": dict(REFERRAL_TONES),
            "awaiting_answer": {str(s) for s in AWAITING_ANSWER},
            "cookie": app.config["SESSION_COOKIE_NAME"], "secret_key": app.secret_key}


# -- the manager's dashboard (``core.web.views.dashboard``, role manager) ------------------
# Its blocks, in the application's order (taken once at start): the FICP queue and the
# lender's delinquency (credit_municipal), the manager's work (counts, stuck cases, median
# delays, referrals by partner, workshops), accompaniment, today's appointments, missing
# documents. The pictures are drawn by the application's pure chart functions
# (``core.reports.charts``), as the hand-written case read uses its budget arithmetic.

DASH_FICP_WAITING_SQL = """
SELECT count(c.id) FROM cases c
WHERE c.tenant_id = :tenant_id AND c.state = 'ficp_pending'
  AND c.id NOT IN (SELECT f.case_id FROM credit_municipal_ficp_checks f
                   WHERE f.tenant_id = :tenant_id)"""
DASH_PROPOSED_SQL = """
SELECT id, reference, default_proposed_on FROM credit_municipal_loans
WHERE tenant_id = :tenant_id AND default_proposed_on IS NOT NULL AND status = 'repaying'
ORDER BY reference"""
#: Outstanding principal and the oldest unpaid instalment of each loan in the portfolio
#: (payments cover the oldest instalments first): ``delinquency.positions_as_of``.
DASH_POSITIONS_SQL = """
WITH paid AS (
  SELECT loan_id, sum(amount - early) AS regular, sum(principal_part) AS principal
  FROM credit_municipal_repayments WHERE tenant_id = :tenant_id AND paid_on <= :on
  GROUP BY loan_id),
running AS (
  SELECT loan_id, due_date, sum(borrower_payment) OVER (PARTITION BY loan_id
         ORDER BY number) AS cumulative
  FROM credit_municipal_installments WHERE tenant_id = :tenant_id),
oldest AS (
  SELECT running.loan_id, min(running.due_date) AS oldest FROM running
  LEFT JOIN paid ON paid.loan_id = running.loan_id
  WHERE running.cumulative > coalesce(paid.regular, 0) GROUP BY running.loan_id)
SELECT l.amount - coalesce(paid.principal, 0), oldest.oldest
FROM credit_municipal_loans l
LEFT JOIN paid ON paid.loan_id = l.id LEFT JOIN oldest ON oldest.loan_id = l.id
WHERE l.tenant_id = :tenant_id AND l.disbursed_on IS NOT NULL AND l.disbursed_on <= :on
  AND l.status IN ('repaying', 'repaid', 'defaulted')
  AND (l.default_declared_on IS NULL OR l.default_declared_on > :on)
  AND (l.closed_on IS NULL OR l.closed_on > :on)
ORDER BY l.reference"""
DASH_RECEIVED_SQL = """
SELECT count(*) FROM cases WHERE tenant_id = :tenant_id
AND intake_date >= :first_day AND intake_date <= :last_day"""
DASH_PARTNERS_SQL = """
SELECT o.name, count(r.id) FROM referrals r
JOIN organisations o ON o.tenant_id = r.tenant_id AND o.id = r.from_organisation_id
WHERE r.tenant_id = :tenant_id AND r.created_at >= :start AND r.created_at < :end
  AND o.kind != 'ccas'
GROUP BY o.name"""
DASH_WORKSHOPS_SQL = """
SELECT th.title, i.status, count(*) FROM workshop_invitations i
JOIN workshop_sessions s ON s.tenant_id = i.tenant_id AND s.id = i.session_id
JOIN workshop_themes th ON th.tenant_id = s.tenant_id AND th.id = s.theme_id
WHERE i.tenant_id = :tenant_id AND s.starts_at >= :start AND s.starts_at < :end
  AND i.status IN :seated
GROUP BY th.title, i.status"""
#: The median delays: each milestone's first time per case (``{milestones}``: one
#: ``min(…) FILTER (WHERE …)`` per milestone of the workflow, written at start), the first
#: interview at noon UTC when earlier, the middle value(s) of each step by row number.
DASH_DELAYS_SQL = """
WITH reached AS (
  SELECT case_id, {milestones} FROM case_transitions
  WHERE tenant_id = :tenant_id AND case_id IN
        (SELECT id FROM cases WHERE tenant_id = :tenant_id AND intake_date >= :since)
  GROUP BY case_id),
first_interview AS (
  SELECT case_id, min({interview_seconds}) + 43200 AS at FROM interviews
  WHERE tenant_id = :tenant_id AND case_id IN
        (SELECT id FROM cases WHERE tenant_id = :tenant_id AND intake_date >= :since)
  GROUP BY case_id),
points AS (
  SELECT r.*, CASE WHEN fi.at < r.{interview} THEN fi.at
                   ELSE coalesce(r.{interview}, fi.at) END AS interview_at
  FROM reached r LEFT JOIN first_interview fi ON fi.case_id = r.case_id),
pairs AS ({pairs}),
ranked AS (
  SELECT step, seconds, row_number() OVER (PARTITION BY step ORDER BY seconds) AS rank,
         count(*) OVER (PARTITION BY step) AS n FROM pairs)
SELECT step, avg(seconds), max(n) FROM ranked
WHERE rank IN ((n + 1) / 2, (n + 2) / 2) GROUP BY step"""
DASH_OVERDUE_SQL = """
SELECT f.case_id, c.reference, p.first_name, p.last_name, f.planned_on, f.plan_month, f.final
FROM follow_ups f
JOIN cases c ON c.tenant_id = f.tenant_id AND c.id = f.case_id
JOIN persons p ON p.tenant_id = c.tenant_id AND p.id = c.person_id
WHERE f.tenant_id = :tenant_id AND f.done_on IS NULL AND f.planned_on < :today
  AND c.state IN :follow_states
ORDER BY f.planned_on, f.id LIMIT 10"""
DASH_TASKS_SQL = """
SELECT t.case_id, c.reference, t.kind, t.message, t.suggested_action, t.created_at
FROM accompaniment_tasks t JOIN cases c ON c.tenant_id = t.tenant_id AND c.id = t.case_id
WHERE t.tenant_id = :tenant_id AND t.status = 'open'
ORDER BY t.created_at DESC, t.id DESC LIMIT 10"""
DASH_APPOINTMENTS_SQL = """
SELECT a.id, a.starts_at, a.duration_minutes, a.mode, a.place, a.kind, a.status, c.reference,
       p.first_name, p.last_name, u.full_name, u.email
FROM appointments a
JOIN cases c ON c.tenant_id = a.tenant_id AND c.id = a.case_id
JOIN persons p ON p.tenant_id = c.tenant_id AND p.id = c.person_id
LEFT JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.social_worker_id
WHERE a.tenant_id = :tenant_id AND a.starts_at >= :start AND a.starts_at < :end
  AND a.status != 'moved' AND a.social_worker_id = :user_id
ORDER BY a.starts_at"""
DASH_MISSING_SQL = """
SELECT c.id, c.reference, p.first_name, p.last_name, c.state_changed_at, d.n
FROM cases c
JOIN persons p ON p.tenant_id = c.tenant_id AND p.id = c.person_id
JOIN (SELECT case_id, count(*) AS n FROM case_documents
      WHERE tenant_id = :tenant_id AND status = 'requested' GROUP BY case_id) d
  ON d.case_id = c.id
WHERE c.tenant_id = :tenant_id AND c.state = 'documents_requested'
ORDER BY c.state_changed_at, c.reference LIMIT 50"""


def delays_sql(flow, postgresql: bool) -> str:
    """:data:`DASH_DELAYS_SQL` for the tenant's workflow (its milestones and steps)."""
    from core.reports.delays import FIRST_INTERVIEW

    def seconds(column):
        return f"extract(epoch from {column})" if postgresql else f"julianday({column}) * 86400"

    def quoted(states):
        return ", ".join(f"'{s}'" for s in states)

    marks = []
    for m in flow.milestones:
        if m.mode == "to":
            cond = f"to_state IN ({quoted(m.states)})"
        else:
            cond = f"from_state IN ({quoted(m.states)})" + (
                f" AND to_state IN ({quoted(m.towards)})" if m.towards else "")
        marks.append(f"min(CASE WHEN {cond} THEN {seconds('at')} END) AS {m.key}")

    def at(key):
        return "interview_at" if key == FIRST_INTERVIEW else key

    pairs = " UNION ALL ".join(
        f"SELECT '{key}' AS step, CASE WHEN {at(b)} < {at(a)} THEN 0 "
        f"ELSE {at(b)} - {at(a)} END AS seconds FROM points "
        f"WHERE {at(a)} IS NOT NULL AND {at(b)} IS NOT NULL"
        for key, a, b, _label in flow.delays())
    return DASH_DELAYS_SQL.format(milestones=", ".join(marks), pairs=pairs,
                                  interview=FIRST_INTERVIEW,
                                  interview_seconds=seconds("held_on"))


class DashboardPage:
    """The manager's dashboard, written by hand (a part of :class:`Pages`)."""

    def _dashboard_statements(self):
        from sqlalchemy import Date, Uuid, bindparam, text

        from core.models.base import UTCDateTime

        def sql(statement, expanding=(), **types):
            binds = [bindparam(n, type_=t) for n, t in types.items()]
            binds += [bindparam(n, expanding=True) for n in expanding]
            return text(statement).bindparams(*binds)

        # the loan's repayment is not a stuck file (``core.web.dashboards``)
        self.open_states = [code for code, st in self.hand.flow.states.items()
                            if not st.terminal and code not in ("disbursed", "repaying")]
        day, instant = Date(), UTCDateTime()
        self.q_ficp = sql(DASH_FICP_WAITING_SQL)
        self.q_proposed = sql(DASH_PROPOSED_SQL)
        self.q_positions = sql(DASH_POSITIONS_SQL, on=day)
        self.q_received = sql(DASH_RECEIVED_SQL, first_day=day, last_day=day)
        self.q_partners = sql(DASH_PARTNERS_SQL, start=instant, end=instant)
        self.q_workshops = sql(DASH_WORKSHOPS_SQL, ("seated",), start=instant, end=instant)
        self.q_delays = sql(delays_sql(self.hand.flow, self.hand.pg), since=day)
        self.q_overdue = sql(DASH_OVERDUE_SQL, ("follow_states",), today=day)
        self.q_tasks = sql(DASH_TASKS_SQL)
        self.q_appointments = sql(DASH_APPOINTMENTS_SQL, start=instant, end=instant,
                                  user_id=Uuid())
        self.q_missing = sql(DASH_MISSING_SQL)

    def dashboard(self, slug: str):
        """``GET /t/<tenant>/`` for the manager (``core.web.views.dashboard``)."""
        from core import formats
        from core.reports import charts

        hand, flow = self.hand, self.hand.flow
        c = self.c["dashboard"]
        with hand.engine.begin() as conn:
            tenant, user = self.signed_in(conn, slug)
            t = {"tenant_id": tenant.id}
            conn.execute(hand.q_plugins, t).all()
            now = dt.datetime.now(dt.UTC)
            today = now.astimezone(tenant.zone).date()
            year = today.year
            start = dt.datetime(year, 1, 1, tzinfo=tenant.zone).astimezone(dt.UTC)
            end = dt.datetime(year + 1, 1, 1, tzinfo=tenant.zone).astimezone(dt.UTC)
            waiting = conn.execute(self.q_ficp, t).scalar()
            proposed = [SimpleNamespace(id=_uuid(r[0]), reference=r[1],
                                        default_proposed_on=_day(r[2]))
                        for r in conn.execute(self.q_proposed, t)]
            positions = conn.execute(self.q_positions, {**t, "on": today}).all()
            counts = dict(conn.execute(hand.q_dash_counts, t).all())
            stuck = conn.execute(hand.q_dash_stuck, {
                **t, "open_states": self.open_states,
                "limit_at": now - dt.timedelta(days=c["stuck_days"])}).mappings().all()
            medians = {r[0]: (float(r[1]), int(r[2])) for r in conn.execute(
                self.q_delays, {**t, "since": today - dt.timedelta(days=365)})}
            received = conn.execute(self.q_received, {
                **t, "first_day": dt.date(year, 1, 1), "last_day": dt.date(year, 12, 31)}
            ).scalar()
            partners = conn.execute(self.q_partners, {**t, "start": start, "end": end}).all()
            workshops = conn.execute(self.q_workshops, {
                **t, "start": start, "end": min(end, now), "seated": c["seated"]}).all()
            overdue = conn.execute(self.q_overdue, {
                **t, "today": today, "follow_states": c["follow_states"]}).all()
            tasks = conn.execute(self.q_tasks, t).all()
            day_start = dt.datetime.combine(today, dt.time(), tenant.zone).astimezone(dt.UTC)
            appointments = conn.execute(self.q_appointments, {
                **t, "start": day_start, "end": dt.datetime.combine(
                    today + dt.timedelta(days=1), dt.time(), tenant.zone).astimezone(dt.UTC),
                "user_id": user.id}).all()
            missing = conn.execute(self.q_missing, t).all()

        # the lender's blocks
        buckets = c["ageing"](
            (amount, (today - oldest).days if oldest is not None and oldest < today else 0)
            for amount, oldest in ((Decimal(str(a)).quantize(Decimal("0.01")), _day(o))
                                   for a, o in positions) if amount > 0)
        ficp_html = self.env.get_template(c["ficp_template"]).render(waiting=waiting)
        delinquency_html = self.env.get_template(c["delinquency_template"]).render(
            buckets=buckets, proposed=proposed, today=today)
        # the manager's work
        by_state = [(code, state.label, counts[code]) for code, state in flow.states.items()
                    if counts.get(code)]
        steps = []
        for key, a, b, label in flow.delays():
            seconds, n = medians.get(key, (None, 0))
            steps.append(SimpleNamespace(start=a, end=b, label=label, cases=n, median_days=(
                None if seconds is None else round(round(seconds, 3) / 86400, 1))))
        timed = [d for d in steps if d.median_days is not None]
        by_partner = sorted(((name, n) for name, n in partners), key=lambda r: (-r[1], r[0]))
        themes: dict[str, list[int]] = {}
        for title, status, n in workshops:
            totals = themes.setdefault(title, [0, 0])
            totals[1] += n
            if status == "attended":
                totals[0] += n
        attendance = sorted(((th, p, s) for th, (p, s) in themes.items()), key=lambda r: r[0])

        def chart_rows(rows):
            return [(label, n, formats.number(n)) for label, n in rows]

        def days(value):
            return f"{formats.number(value, 1)} {'jour' if value < 2 else 'jours'}"

        work = {
            "counts": by_state,
            "chart": charts.horizontal_bars(
                "graphique-etats", "Nombre de dossiers par état",
                [(label, n, formats.number(n)) for _code, label, n in by_state]),
            "key_figures": {
                "open": sum(n for code, n in counts.items()
                            if code in flow.states and not flow.states[code].terminal),
                "received": received, "year": year,
                "granted": sum(n for code, n in counts.items() if code in flow.states
                               and flow.states[code].outcome == "granted")},
            "total": sum(counts.values()),
            # 50 listed, the 51st read to say "plus de" (``core.web.dashboards``)
            "stuck": [self._case_row(r) for r in stuck[:50]], "stuck_beyond": len(stuck) > 50,
            "stuck_days": c["stuck_days"],
            "delays": steps,
            "delays_chart": charts.horizontal_bars(
                "graphique-delais", "Délai médian par étape, en jours",
                [(d.label, d.median_days, days(d.median_days)) for d in timed])
            if timed else "",
            "partners": by_partner,
            "partner_rows": [(name, formats.number(n), None) for name, n in by_partner],
            "partners_chart": charts.horizontal_bars(
                "graphique-partenaires", f"Orientations reçues en {year}, par partenaire",
                chart_rows(by_partner)) if by_partner else "",
            "workshops": attendance,
            "workshop_rows": [(th, f"{p} sur {s}", None) for th, p, s in attendance],
            "workshops_chart": charts.horizontal_bars(
                "graphique-ateliers", f"Présence aux ateliers en {year}, par thème",
                [(th, p, f"{p} sur {s}") for th, p, s in attendance]) if attendance else "",
        }
        accompaniment = {
            "overdue": [SimpleNamespace(
                case_id=_uuid(r[0]), case=SimpleNamespace(reference=r[1], person=_person(
                    r[2], r[3])), planned_on=_day(r[4]), plan_month=r[5], final=bool(r[6]))
                for r in overdue],
            "tasks": [SimpleNamespace(
                case_id=_uuid(r[0]), case=SimpleNamespace(reference=r[1]),
                kind_label=c["task_kinds"][r[2]], message=r[3], suggested_action=r[4],
                created_at=_aware(r[5])) for r in tasks]}
        rows = [SimpleNamespace(
            id=_uuid(r[0]), starts_at=_aware(r[1]),
            ends_at=_aware(r[1]) + dt.timedelta(minutes=r[2]),
            mode_label=c["modes"][r[3]], place=r[4], kind_label=c["kinds"][r[5]],
            status=r[6], status_label=c["statuses"][r[6]],
            case=SimpleNamespace(reference=r[7], person=_person(r[8], r[9])),
            social_worker=SimpleNamespace(full_name=r[10], email=r[11]))
            for r in appointments]
        waiting_documents = [(SimpleNamespace(
            id=_uuid(r[0]), reference=r[1], person=_person(r[2], r[3]),
            state_changed_at=_aware(r[4])), r[5]) for r in missing]
        html = {"ficp": ficp_html, "delinquency": delinquency_html}
        panels = [SimpleNamespace(template=p["template"], title=p["title"], context=None,
                                  html=html.get(p["html"])) for p in c["panels"]]
        self.page_data = {"manager_overview": work, "accompaniment": accompaniment,
                          "appointments": rows, "missing": waiting_documents}
        return self.render("dashboard.html", tenant, user, "web.dashboard", panels=panels,
                           role_label=c["role_labels"].get(user.role, ""))

    def _case_row(self, r):
        return SimpleNamespace(id=_uuid(r["id"]), reference=r["reference"], state=r["state"],
                               person=_person(r["first_name"], r["last_name"]),
                               state_changed_at=_aware(r["state_changed_at"]))

    def _dashboard_globals(self):
        flow = self.hand.flow
        zone = lambda: self.page["zone"]  # noqa: E731

        def state_badge(code):
            state = flow.states.get(str(code))
            return Markup('<span class="badge badge-%s">%s</span>') % (
                (state.outcome, state.label) if state else ("in_progress", str(code)))

        self.env.globals.update(
            dashboard_data=lambda name: self.page_data[name],
            accompaniment_dashboard=lambda: self.page_data["accompaniment"],
            appointments_today=lambda _user: self.page_data["appointments"],
            documents_missing_cases=lambda: self.page_data["missing"],
            appointment_local=lambda value: value.astimezone(zone()),
            ccas_case_page_url=lambda case: self.url_for("cases.case_page", case_id=case.id),
            case_page_row_url=lambda: self._row_url("cases.case_page", "case_id"),
            state_badge=state_badge)


def dashboard_context(app, ctx: dict, panels) -> dict:
    """The manager's dashboard's static tables (labels, states, the blocks' order)."""
    from core.features.accompaniment import FOLLOW_STATES
    from core.features.workshops import SEATED
    from core.models import Tenant
    from core.models.accompaniment import TASK_KIND_LABELS
    from core.models.appointment import APPOINTMENT_STATUS_LABELS, KIND_LABELS, MODE_LABELS
    from core.policy import ROLE_LABELS
    from core.web.dashboards import stuck_after_days
    from plugins.credit_municipal import delinquency

    htmls = {"Contrôle FICP": "ficp", "Retards de remboursement": "delinquency"}
    with app.app_context():
        from core import tenancy
        from core.db import db

        with tenancy.tenant_scope(ctx["tenant_id"]):
            stuck_days = stuck_after_days(db.session.get(Tenant, ctx["tenant_id"]))
            db.session.rollback()
    return {
        # a block included by the page (a template, no values of its own), or shown under
        # its title: HTML, or a template with its values (``core.plugins.types.Panel``)
        "panels": [{"template": p.template if p.context is None else None, "title": p.title,
                    "html": None if p.template and p.context is None else htmls[p.title]}
                   for p in panels],
        "stuck_days": stuck_days, "seated": [str(s) for s in SEATED],
        "follow_states": [str(s) for s in FOLLOW_STATES],
        "task_kinds": {str(k): v for k, v in TASK_KIND_LABELS.items()},
        "modes": {str(k): v for k, v in MODE_LABELS.items()},
        "kinds": {str(k): v for k, v in KIND_LABELS.items()},
        "statuses": {str(k): v for k, v in APPOINTMENT_STATUS_LABELS.items()},
        "role_labels": {str(k): v for k, v in ROLE_LABELS.items()},
        "ageing": delinquency.ageing,
        "ficp_template": "credit_municipal/ficp_panel.html",
        "delinquency_template": "credit_municipal/delinquency_panel.html",
    }


class Pages(DashboardPage, CasePage):
    """The hand-written pages, added to the hand-written application (``Hand``)."""

    def __init__(self, hand, context: dict):
        self.hand = hand
        self.c = context
        from core import formats, labels

        s = hand._sql
        self.q_session = s(SESSION_SQL, "web_sessions")
        self.q_tenant = s(TENANT_SQL, "tenants")
        self.q_user = s(USER_SQL, "users")
        self.q_portal = s(PORTAL_SQL.format(awaiting=""), "referrals")
        self.q_portal_awaiting = s(PORTAL_SQL.format(
            awaiting="\n  AND r.status IN :awaiting"), "referrals", expanding=("awaiting",))
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
        self.env.filters["date_fr"] = self._date_fr
        self.env.filters["money"] = formats.money
        self.env.filters["number"] = formats.number
        self.env.filters["actor"] = labels.actor  # pure: a stored label as people read it
        # globals, as the macros imported without context see them; the per-request values
        # (tenant, token) in ``self.page``
        self.env.globals.update(referral_badge=self._referral_badge, row_url=self._row_url,
                                get_flashed_messages=lambda **_kw: [], url_for=self.url_for,
                                csrf_token=lambda: self.page["token"])
        from core import sorting
        from core.web.referrals import referral_sort_spec

        self.portal_sorting = sorting.sort_from({}, referral_sort_spec())  # the default sort
        self._dashboard_statements()
        self._dashboard_globals()
        self._case_statements()
        self._case_globals()
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

    def _date_fr(self, value):
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            value = value.astimezone(self.page["zone"])
        return value.strftime("%d/%m/%Y")

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
                            timezone=tenant["timezone"],
                            zone=ZoneInfo(tenant["timezone"] or "Europe/Paris"))
        u = SimpleNamespace(
            id=_uuid(user["id"]), email=user["email"], full_name=user["full_name"],
            role=str(user["role"]), is_authenticated=True, is_operator=False,
            organisation_id=_uuid(user["organisation_id"]),
            organisation=SimpleNamespace(name=user["organisation_name"]),
            csrf=data.get("csrf_token", ""))
        # the page's per-request values the template helpers read
        self.page = {"tenant": t, "zone": t.zone, "token": self.csrf.dumps(u.csrf)}
        return t, u

    def render(self, template: str, tenant, user, endpoint: str, path: str = "",
               **values) -> str:
        menu = self.c["menus"].get((user.role, endpoint))
        return self.env.get_template(template).render(
            tenant=tenant, current_user=user, menu=lambda: menu,
            request=SimpleNamespace(endpoint=endpoint, path=path, method="GET"), **values)

    # -- pages ----------------------------------------------------------------------------

    def portal(self, slug: str):
        """``GET /t/<tenant>/orientations/`` for a partner (``core.web.referrals.index``)."""
        hand = self.hand
        with hand.engine.begin() as conn:
            tenant, user = self.signed_in(conn, slug)
            conn.execute(hand.q_plugins, {"tenant_id": tenant.id}).all()  # the menu's plugins
            org = user.organisation_id
            params = {"tenant_id": tenant.id, "org_id": org, "limit": PORTAL_CAP + 1}
            rows = [self._portal_row(r) for r in conn.execute(self.q_portal, params)]
            beyond = len(rows) > PORTAL_CAP
            if beyond:
                rows = rows[:PORTAL_CAP]
                shown = {r.id for r in rows}
                rows += [row for row in (self._portal_row(r) for r in conn.execute(
                    self.q_portal_awaiting, {**params, "limit": PORTAL_CAP,
                                             "awaiting": sorted(self.c["awaiting_answer"])}))
                         if row.id not in shown]
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
            sorting=self.portal_sorting, query={}, beyond=beyond, cap=PORTAL_CAP)

    @staticmethod
    def _portal_row(r) -> SimpleNamespace:
        rid = _uuid(r[0])
        return SimpleNamespace(
            id=rid, reference=rid.hex[:8].upper(), status=r[1], first_name=r[2],
            last_name=r[3], status_changed_at=r[4], from_organisation_id=_uuid(r[5]),
            from_organisation=SimpleNamespace(name=r[6], kind=r[7]),
            to_organisation_id=_uuid(r[8]), to_organisation=SimpleNamespace(name=r[9], kind=r[10]))


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _aware(value):
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _person(first_name, last_name):
    return SimpleNamespace(full_name=f"{first_name} {last_name}".strip())


def _day(value):
    return dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value
