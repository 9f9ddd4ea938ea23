"""Request-level figures of ccas-network against a hand-written equivalent and a bare read.

Usage::

    .venv/bin/python benchmarks/request_speed.py                       # SQLite file, in-process
    .venv/bin/python benchmarks/request_speed.py \\
        --db postgresql+psycopg://postgres@127.0.0.1:5432/test    # PostgreSQL, app role, RLS
    .venv/bin/python benchmarks/request_speed.py --db ... --no-rls     # same, RLS disabled
    .venv/bin/python benchmarks/request_speed.py --profile case_read   # cProfile of one endpoint

Options: ``--tenants N --cases M`` (M cases per tenant; tenant 0 is the one measured),
``--requests R`` per run, ``--repeat K`` runs (best of K by p50), ``--seed``,
``--only a,b`` endpoints, ``--http`` (also over loopback HTTP against gunicorn, when it is
installed), ``--out FILE`` (default ``benchmarks/results/<date>-<db>.json``),
``--baseline FILE`` (default ``benchmarks/baseline.json``, checked in: a ratio more than
20 % worse than the checked-in one prints a REGRESSION warning), ``--save-baseline``
(store this run's figures there, under its database), ``--show-statements NAME``
(the SQL of one request, app and hand), ``--summarise A.json B.json`` (a Markdown table
of result files side by side).

What it does, in one process and from one database:

1. creates a scratch database (PostgreSQL: its own database, migrated by an owner role, the
   application connecting as a non-owner role so that row-level security applies, as in
   ``core.testing.pytest_plugin``; SQLite: a file in a temporary directory);
2. generates N tenants × M cases with ``core.demo.generate``, the generator of ``ccas
   demo`` (:func:`generate`: each tenant the demo's cast with the four partner plugins
   enabled; persons, cases in every state with their transitions, interviews, budgets,
   documents, referrals with their history, appointments, the lender's loans and
   repayments, audit history; tenant n from ``--seed + n``, same seed same rows), written
   in bulk (``COPY`` on PostgreSQL; the plain indexes, the primary and unique keys and
   the foreign keys dropped for the load, the indexes and keys built again and the
   foreign keys added back and validated after it, ``core.rawsql.plain_indexes_deferred``,
   ``unique_keys_deferred`` and ``foreign_keys_deferred``; ``--workers``: processes drawing
   and writing a tenant's rounds of 10,000 requests at once, one per core by default
   there, the same rows whatever their number, ``core.demo.rounds``); ``--keep-db`` keeps
   the PostgreSQL database;
3. for every endpoint, times the application (Flask test client), the hand-written
   equivalent (a Flask app on SQLAlchemy Core: the same authentication lookup, the same
   reads, the same audit rows written in the same transaction, the same JSON; its SQL is
   written out below, endpoint by endpoint) and, where it makes sense, a bare read (the
   main row by primary key, no authentication, no audit); the partner portal's list and
   the manager's dashboard have faithful hand-written pages (``benchmarks/hand_pages.py``:
   the session cookie's user, the same reads, the application's templates rendered by a
   plain Jinja environment), checked to return the same HTML before timing (the case
   page's hand-written page is still a minimal one);
4. prints p50 / p95 (µs), the ratios and the SQL statements per request, and writes a
   dated JSON.

Requests of the three variants are interleaved one by one (app, hand, bare, app, …) so
that a load spike on a shared machine hits all three alike; each figure is the best run
(lowest p50) of ``--repeat``.
"""

from __future__ import annotations

import argparse
import base64
import contextvars
import cProfile
import datetime as dt
import gc
import hashlib
import json
import os
import platform
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask, abort, g, jsonify, request  # noqa: E402
from sqlalchemy import bindparam, event, text  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
#: The checked-in figures a run is compared with, one entry per database (``--save-baseline``).
BASELINE = Path(__file__).resolve().parent / "baseline.json"
PASSWORD = "Banc-d-essai-2026!"  # noqa: S105 - a scratch database's users


# ----------------------------------------------------------------------------------------
# Data: N tenants x M cases, from the demo's generator (core.demo.generate)
# ----------------------------------------------------------------------------------------

#: The benchmark's own logins in every tenant (``<role>@bench<n>.test``), by organisation of
#: the demo's cast; the referrer works for the CAF, a partner that refers people.
BENCH_USERS = (("manager", "CCAS de Toulouse"), ("social_worker", "CCAS de Toulouse"),
               ("secretary", "CCAS de Toulouse"),
               ("lender_agent", "Crédit Municipal de Toulouse"),
               ("referrer", "CAF de la Haute-Garonne"))
#: Years of activity generated per tenant (the demo's default): M cases over two years.
YEARS = 2


def generate(app, tenants: int, cases: int, seed: int, today: dt.date,
             quiet: bool = False, workers: int = 1) -> dict:
    """Tenants ``bench0..benchN-1``, each the demo's cast (CCAS, lender, partners, four
    plugins enabled) with ``cases`` requests drawn by ``core.demo.generate`` (tenant n
    from ``seed + n``, ending ``today``) and the benchmark's logins; committed round by
    round. On PostgreSQL the plain indexes, the primary and unique keys and the foreign
    keys are dropped for the load, the indexes and the primary and unique keys built again
    after it (a repeated key fails its build) and the foreign keys added back, each
    validated by one query (``core.rawsql.plain_indexes_deferred``,
    ``unique_keys_deferred``, ``foreign_keys_deferred``, as the owner): the schema is the
    migrated one afterwards, and the rows are proved to hold to its keys. ``workers``:
    processes drawing and writing a tenant's rounds of 10,000 requests at once
    (PostgreSQL; the same rows as one process).
    Returns what the runs need for tenant 0 (slug, tokens, a case id, the CCAS and the
    partner organisation ids) and what was written."""
    from sqlalchemy import create_engine, func, select

    from core import accounts, demo, rawsql, tenancy
    from core.accounts.credentials import hash_password
    from core.db import db
    from core.models import Organisation, Tenant

    password_hash = hash_password(PASSWORD)
    out: dict = {}
    tables: dict[str, int] = {}
    generated: list[int] = []
    started = time.perf_counter()
    owner = create_engine(app.config["CCAS_DATABASE_OWNER_URL"])
    with app.app_context(), rawsql.foreign_keys_deferred(owner) as keys:
        with rawsql.plain_indexes_deferred(owner) as deferred:
            with rawsql.unique_keys_deferred(owner) as uniques:
                session = db.session
                try:
                    for n in range(tenants):
                        slug = f"bench{n}"
                        tenant, _logins = demo.cast.create_cast(
                            session, PASSWORD, slug=slug, name=f"CCAS Bench {n}", city=f"Ville{n}",
                            password_hash=password_hash)
                        session.commit()
                        t0 = time.perf_counter()

                        def progress(done, total, n=n, t0=t0):
                            session.commit()
                            if not quiet and (n == 0 or done == total) and total >= 10_000:
                                print(f"  tenant {n}: {done:,} / {total:,} cases, "
                                      f"{time.perf_counter() - t0:.0f} s", flush=True)

                        generated.append(tenant.id)
                        summary = demo.generate(session, tenant, seed=seed + n, years=YEARS,
                                                requests_per_year=cases / YEARS, today=today,
                                                progress=progress, workers=workers,
                                                suggest=False)
                        session.commit()
                        for table, count in summary.tables.items():
                            tables[table] = tables.get(table, 0) + count
                        with tenancy.tenant_scope(tenant.id):
                            g.tenant = tenant
                            users = {role: accounts.create_user(
                                session, f"{role}@{slug}.test", role, org, None,
                                full_name=f"{role.title()} {n}", password_hash=password_hash)
                                for role, org in BENCH_USERS}
                            session.flush()
                            tokens = {role: accounts.create_token(session, u.email, "bench")[1]
                                      for role, u in users.items()}
                            if n == 0:
                                out = {"tenant_id": tenant.id, "slug": slug, "tokens": tokens,
                                       "case_id": str(_read_case_id(session)),
                                       "ccas_org": str(users["manager"].organisation_id),
                                       "partner_org": str(users["referrer"].organisation_id),
                                       "organisations": session.scalar(
                                           select(func.count()).select_from(Organisation))}
                            session.commit()
                            g.pop("tenant", None)
                        if not quiet and (tenants <= 5 or n % 25 == 0 or n == tenants - 1):
                            print(f"  tenant {n}: {summary.cases:,} cases in "
                                  f"{time.perf_counter() - t0:.1f} s", flush=True)
                finally:
                    # the transaction ended (a failed round's rolled back) before the indexes are
                    # built again: they wait for no lock of it
                    session.close()
                    loaded = time.perf_counter()
            unique = time.perf_counter()  # the primary and unique keys built again
        indexed = time.perf_counter()
    owner.dispose()
    validated = time.perf_counter()  # the foreign keys added back and validated
    with app.app_context():  # the indexes built again: the plugins' rules read by case
        for tenant_id in generated:
            with tenancy.tenant_scope(tenant_id):
                demo.suggest(db.session, db.session.get(Tenant, tenant_id))
            db.session.commit()
    if deferred and not quiet:
        print(f"  {len(uniques)} primary and unique keys built again in {unique - loaded:.1f} s, "
              f"{len(deferred)} plain indexes in {indexed - unique:.1f} s, "
              f"{len(keys)} foreign keys added and validated in "
              f"{validated - indexed:.1f} s, the suggestions of the open cases in "
              f"{time.perf_counter() - validated:.1f} s", flush=True)
    seconds = time.perf_counter() - started
    rows = sum(tables.values())
    print(f"generated {tenants} tenant(s) x {cases:,} cases ({tenants * cases:,}) "
          f"with {workers} process(es), "
          f"{rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")
    out["generated"] = {"seconds": round(seconds, 1), "rows": rows, "tables": tables,
                        "workers": workers,
                        "today": today.isoformat(), "seed": seed}
    return out


def _read_case_id(session):
    """The case the reads time: the middle one, by reference, of the cases with an
    evaluation interview (so its document has transitions, interviews and a budget)."""
    from sqlalchemy import func, select

    from core.models import Case, Interview

    with_interview = select(Interview.case_id).distinct().subquery()
    ids = select(Case.id).join(with_interview, with_interview.c.case_id == Case.id)
    total = session.scalar(select(func.count()).select_from(ids.subquery()))
    return session.scalar(ids.order_by(Case.reference).offset(total // 2).limit(1))


# ----------------------------------------------------------------------------------------
# The hand-written equivalent: Flask + SQLAlchemy Core, its SQL written out
# ----------------------------------------------------------------------------------------

#: One query: the token, its user and the tenant (the tenant id is in the token).
AUTH_SQL = """
SELECT k.id AS token_id, k.revoked_at, k.expires_at, u.id AS user_id, u.email, u.role,
       u.full_name, u.active, u.organisation_id, o.name AS organisation_name,
       t.id AS tenant_id, t.timezone, t.settings
FROM api_tokens k
JOIN users u ON u.tenant_id = k.tenant_id AND u.id = k.user_id
LEFT JOIN organisations o ON o.tenant_id = u.tenant_id AND o.id = u.organisation_id
JOIN tenants t ON t.id = k.tenant_id
WHERE k.tenant_id = :tenant_id AND k.token_hash = :token_hash"""

#: PostgreSQL: the transaction's tenant for the row-level-security policies, signed for
#: this backend and transaction (the tenant wall the application role cannot forge):
#: ``core.rawsql.set_tenant_guc``, the same two statements the application sends
#: (``SELECT pg_backend_pid(), transaction_timestamp()``, then ``set_config`` × 3).

#: The tenant's enabled plugins (the workflow, the lending bounds depend on them).
PLUGINS_SQL = "SELECT plugin_name, settings FROM plugin_states WHERE tenant_id = :tenant_id " \
              "AND enabled"

CASE_COLUMNS = """c.id, c.reference, c.state, c.version, c.purpose, c.amount_requested,
       c.project, c.source, c.intake_date, c.state_changed_at, c.social_worker_id,
       c.reoriented_to, p.id AS person_id, p.first_name, p.last_name, p.birth_date,
       p.phone, p.email, p.address, p.postal_code, p.city, p.adults, p.children_ages,
       p.employment"""

#: The case and its person; the lender's agents only from the states their plugin says.
CASE_SQL = f"""
SELECT {CASE_COLUMNS}
FROM cases c JOIN persons p ON p.tenant_id = c.tenant_id AND p.id = c.person_id
WHERE c.tenant_id = :tenant_id AND c.id = :case_id"""
LENDER_VISIBLE = """ AND EXISTS (SELECT 1 FROM case_transitions x WHERE x.tenant_id =
       c.tenant_id AND x.case_id = c.id AND x.to_state IN :visible_states)"""

TRANSITIONS_SQL = """
SELECT from_state, to_state, at, actor_label, reason_code, reason_text
FROM case_transitions WHERE tenant_id = :tenant_id AND case_id = :case_id ORDER BY at"""

INTERVIEWS_SQL = """
SELECT id, held_on, duration_minutes, shared_note, private_note
FROM interviews WHERE tenant_id = :tenant_id AND case_id = :case_id
ORDER BY held_on, created_at"""

BUDGET_SQL = """
SELECT category, amount FROM budget_lines WHERE tenant_id = :tenant_id AND case_id = :case_id"""

AUDIT_SQL = """
INSERT INTO audit_events (tenant_id, id, at, actor, action, object_type, object_id, ip, detail)
VALUES (:tenant_id, :id, :at, :actor, :action, :object_type, :object_id, :ip, :detail)"""

COUNT_SQL = "SELECT count(*) FROM cases c WHERE c.tenant_id = :tenant_id"
#: The name search: one word, in the last name, the first name or the reference.
SEARCH = """AND (lower(p.last_name) LIKE :like OR lower(p.first_name) LIKE :like
     OR lower(c.reference) LIKE :like)"""
LIST_SQL = f"""
SELECT {CASE_COLUMNS}
FROM cases c JOIN persons p ON p.tenant_id = c.tenant_id AND p.id = c.person_id
WHERE c.tenant_id = :tenant_id {{state}}
ORDER BY c.intake_date DESC, c.reference DESC LIMIT :limit OFFSET :offset"""

REFERRAL_COLUMNS = """r.id, r.status, r.created_at, r.updated_at, r.status_changed_at,
       r.first_name, r.last_name, r.birth_date, r.phone, r.email, r.purpose,
       r.amount_requested, r.note, r.consent, r.consent_at, r.consent_by, r.extra,
       r.decline_reason, r.consent_method, r.outcome, fo.id AS from_id,
       fo.name AS from_name, tor.id AS to_id, tor.name AS to_name"""
REFERRALS_SQL = f"""
SELECT {REFERRAL_COLUMNS}
FROM referrals r
JOIN organisations fo ON fo.tenant_id = r.tenant_id AND fo.id = r.from_organisation_id
JOIN organisations tor ON tor.tenant_id = r.tenant_id AND tor.id = r.to_organisation_id
WHERE r.tenant_id = :tenant_id
  AND (r.from_organisation_id = :org_id OR r.to_organisation_id = :org_id)
ORDER BY {{order}} LIMIT :limit"""
REFERRAL_HISTORY_SQL = """
SELECT referral_id, from_status, to_status, at, reason_code, message
FROM referral_status_changes WHERE tenant_id = :tenant_id AND referral_id IN :ids
ORDER BY at"""
REFERRAL_ATTACHMENTS_SQL = """
SELECT referral_id, id, filename, content_type, size FROM referral_attachments
WHERE tenant_id = :tenant_id AND referral_id IN :ids ORDER BY created_at"""

IDEMPOTENCY_SELECT_SQL = """
SELECT state, fingerprint FROM idempotency_keys
WHERE tenant_id = :tenant_id AND user_id = :user_id AND key = :key"""
IDEMPOTENCY_INSERT_SQL = """
INSERT INTO idempotency_keys (tenant_id, id, user_id, key, fingerprint, state, created_at,
                              expires_at)
VALUES (:tenant_id, :id, :user_id, :key, :fingerprint, 'in_progress', :created_at,
        :expires_at)"""
IDEMPOTENCY_DONE_SQL = """
UPDATE idempotency_keys SET state = 'done', response_status = 201, response_body = :body
WHERE tenant_id = :tenant_id AND user_id = :user_id AND key = :key"""
CCAS_ORG_SQL = """
SELECT id, name, kind, email FROM organisations WHERE tenant_id = :tenant_id AND kind = 'ccas'
ORDER BY name LIMIT 1"""
#: the receiving organisation is told by e-mail (its address, or its managers' and
#: secretaries'), one outbox row per address, in the request's transaction
RECIPIENTS_SQL = """
SELECT email FROM users WHERE tenant_id = :tenant_id AND organisation_id = :org_id
  AND active AND role IN ('manager', 'secretary') ORDER BY email"""
OUTBOX_INSERT_SQL = """
INSERT INTO outbox_messages (tenant_id, id, kind, status, recipient, subject, payload, topic,
  attempts, last_error, created_at, next_attempt_at)
VALUES (:tenant_id, :id, 'email', 'pending', :recipient, :subject, :payload, :topic, 0, '',
  :created_at, :next_attempt_at)"""
REFERRAL_INSERT_SQL = """
INSERT INTO referrals (tenant_id, id, from_organisation_id, to_organisation_id, created_by_id,
  first_name, last_name, birth_date, phone, email, purpose, amount_requested, note, consent,
  consent_at, consent_by, consent_method, extra, status, created_at, updated_at,
  status_changed_at)
VALUES (:tenant_id, :id, :from_organisation_id, :to_organisation_id, :created_by_id,
  :first_name, :last_name, :birth_date, :phone, :email, :purpose, :amount_requested, :note,
  :consent, :consent_at, :consent_by, 'referrer', :extra, 'sent', :created_at, :updated_at,
  :status_changed_at)"""
REFERRAL_HISTORY_INSERT_SQL = """
INSERT INTO referral_status_changes (tenant_id, id, referral_id, from_status, to_status, at,
  actor_label, message)
VALUES (:tenant_id, :id, :referral_id, NULL, 'sent', :at, :actor_label, '')"""

DASHBOARD_COUNTS_SQL = """
SELECT state, count(*) FROM cases WHERE tenant_id = :tenant_id GROUP BY state"""
#: the columns the list shows (the application reads these since ``core.cases.items``)
DASHBOARD_STUCK_SQL = """
SELECT c.id, c.reference, c.state, c.state_changed_at, p.first_name, p.last_name
FROM cases c JOIN persons p ON p.tenant_id = c.tenant_id AND p.id = c.person_id
WHERE c.tenant_id = :tenant_id AND c.state IN :open_states AND c.state_changed_at < :limit_at
ORDER BY c.state_changed_at, c.reference LIMIT 51"""
BARE_SQL = "SELECT id, reference, state, intake_date FROM cases WHERE tenant_id = :tenant_id " \
           "AND id = :case_id"


class Hand:
    """The hand-written application: Flask, SQLAlchemy Core, one transaction a request."""

    def __init__(self, url: str, context: dict):
        from core import rawsql, workflow
        from core.accounts.credentials import parse_token_tenant, token_digest
        from core.db import make_engine
        from core.models import Base

        self.engine = make_engine(url)  # the application's own engine settings (pragmas)
        self.rawsql = rawsql
        self.pg = self.engine.dialect.name == "postgresql"
        self.tables = Base.metadata.tables
        self.parse_token_tenant, self.token_digest = parse_token_tenant, token_digest
        self.flow = context["flow"]
        self.state_labels = {code: s.label for code, s in self.flow.states.items()}
        self.available = context["available"]  # (state, role) -> targets, from the workflow
        self.bounds = context["bounds"]
        self.list_audit = context["list_audit"]  # audit rows the app writes per list read
        self.referral_extra = context["referral_extra"]  # the plugins' fields, by sender
        self.wall_key = context.get("wall_key")  # PostgreSQL: signs the transaction's tenant
        self.workflow = workflow
        self.app = self._build()
        if context.get("pages"):  # the faithful pages (benchmarks/hand_pages.py)
            from benchmarks.hand_pages import Pages

            self.pages = Pages(self, context["pages"])
            self.app.add_url_rule("/hand/t/<slug>/orientations/", "portal_page",
                                  self.pages.portal)
            self.app.add_url_rule("/hand/t/<slug>/", "dashboard_page", self.pages.dashboard)
            self.app.add_url_rule("/hand/t/<slug>/cases/<case_id>", "case_page_faithful",
                                  self.pages.case_page)

    # -- statements --------------------------------------------------------------------

    def _sql(self, sql: str, *tables: str, expanding=()):
        """``text(sql)`` with its parameters typed from the columns of ``tables``."""
        stmt = text(sql)
        names = set(stmt._bindparams)
        binds = []
        uuid_type = self.tables["cases"].c.id.type
        for name in names:
            type_ = None
            for table in tables:
                column = self.tables[table].c.get(name)
                if column is not None:
                    type_ = column.type
                    break
            if name in ("case_id", "org_id", "user_id", "referral_id", "ids"):
                type_ = uuid_type
            elif name == "limit_at":
                type_ = self.tables["cases"].c.state_changed_at.type
            if name in expanding:
                binds.append(bindparam(name, expanding=True, type_=type_))
            elif type_ is not None:
                binds.append(bindparam(name, type_=type_))
        return stmt.bindparams(*binds)

    def _begin(self, conn, tenant_id):
        if self.pg:
            # the tenant signed for this transaction, as the database wall requires
            self.rawsql.set_tenant_guc(conn, str(tenant_id), "", self.wall_key)

    def _authenticate(self, conn):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        tenant_id = self.parse_token_tenant(token.strip()) if scheme.lower() == "bearer" else None
        if tenant_id is None:
            abort(401)
        self._begin(conn, tenant_id)
        row = conn.execute(self.q_auth, {"tenant_id": tenant_id,
                                         "token_hash": self.token_digest(token.strip())}
                           ).mappings().first()
        now = dt.datetime.now(dt.UTC)
        if row is None or row["revoked_at"] is not None or not row["active"] or (
                row["expires_at"] is not None and row["expires_at"] <= now):
            abort(401)
        row = dict(row)
        for key in ("user_id", "organisation_id"):
            row[key] = _uuid(row[key]) if row[key] is not None else None
        row["token_id"] = str(_uuid(row["token_id"]))
        return row

    def _audit(self, conn, user, action, object_type="", object_id="", **detail):
        conn.execute(self.q_audit, {
            "tenant_id": user["tenant_id"], "id": uuid.uuid4(), "at": dt.datetime.now(dt.UTC),
            "actor": f"token:{user['token_id']}:{user['email']}", "action": action,
            "object_type": object_type, "object_id": object_id,
            "ip": request.remote_addr, "detail": detail})

    def _audit_page(self, conn, tenant_id, user, action, obj=("", ""), **detail):
        """A page's audit row: the signed-in user (``user:<email>``), the object read
        (``(type, id)``) if any."""
        conn.execute(self.q_audit, {
            "tenant_id": tenant_id, "id": uuid.uuid4(), "at": dt.datetime.now(dt.UTC),
            "actor": f"user:{user.email}", "action": action, "object_type": obj[0],
            "object_id": obj[1], "ip": request.remote_addr, "detail": detail})

    def _notices(self, purpose, amount) -> list[str]:
        ok = not self.bounds or any(lo <= amount <= hi and (ps is None or purpose in ps)
                                    for _lender, lo, hi, ps in self.bounds)
        return [] if ok else [f"Hors des montants de {b[0]}" for b in self.bounds]

    def _case_json(self, c, role, detail_rows=None):
        data = {
            "id": str(_uuid(c["id"])), "reference": c["reference"], "state": c["state"],
            "state_label": self.state_labels.get(c["state"], c["state"]),
            "version": c["version"], "purpose": c["purpose"],
            "amount_requested": f"{Decimal(c['amount_requested']):.2f}",
            "source": c["source"], "intake_date": _iso(c["intake_date"]),
            "state_changed_at": _iso(c["state_changed_at"]),
            "social_worker_id": _str_uuid(c["social_worker_id"]),
            "reoriented_to": c["reoriented_to"], "project": c["project"],
            "person": {
                "id": str(_uuid(c["person_id"])), "first_name": c["first_name"],
                "last_name": c["last_name"], "birth_date": _iso(c["birth_date"]),
                "phone": c["phone"], "email": c["email"], "address": c["address"],
                "postal_code": c["postal_code"], "city": c["city"], "adults": c["adults"],
                "children_ages": _json_list(c["children_ages"]),
                "employment": c["employment"]},
            "available_transitions": self.available.get((c["state"], role), []),
            "notices": self._notices(c["purpose"], Decimal(c["amount_requested"])),
        }
        if detail_rows is not None:
            transitions, interviews, lines = detail_rows
            data["transitions"] = [
                {"from_state": t[0], "to_state": t[1], "at": _iso(t[2]),
                 "actor": t[3].split(":")[-1], "reason": t[4], "reason_text": t[5]}
                for t in transitions]
            data["interviews"] = [
                {"id": str(_uuid(i[0])), "held_on": _iso(i[1]), "duration_minutes": i[2],
                 "shared_note": i[3], "private_note": i[4]} for i in interviews]
            data["budget"] = self._budget(lines, c)
        return data

    def _budget(self, lines, c):
        from core.cases import RESOURCE_CATEGORIES, budget

        if not lines:
            return None
        amounts = {cat: Decimal(a) for cat, a in lines}
        figures = budget.compute(
            [v for k, v in amounts.items() if k in RESOURCE_CATEGORIES],
            [v for k, v in amounts.items() if k not in RESOURCE_CATEGORIES],
            c["adults"] or 1, [int(a) for a in _json_list(c["children_ages"])],
            budget.min_remaining_setting(None))
        return {"lines": {k: _money(v) for k, v in amounts.items()},
                **{k: str(getattr(figures, k)) for k in (
                    "consumption_units", "resources", "charges", "remaining",
                    "remaining_per_unit_month", "remaining_per_unit_day", "max_instalment")}}

    def _read_case(self, conn, user, case_id):
        try:
            key = uuid.UUID(case_id)
        except ValueError:
            abort(404)
        role = user["role"]
        params = {"tenant_id": user["tenant_id"], "case_id": key}
        if role in self.ccas_staff:
            c = conn.execute(self.q_case, params).mappings().first()
        elif role in self.flow.visible_from:
            c = conn.execute(self.q_case_lender, {
                **params, "visible_states": list(self.flow.visible_from[role])}
            ).mappings().first()
        else:
            c = None
        if c is None:
            abort(404)
        details = (conn.execute(self.q_transitions, params).all(),
                   conn.execute(self.q_interviews, params).all(),
                   conn.execute(self.q_budget, params).all())
        return c, details

    # -- routes ------------------------------------------------------------------------

    def _build(self) -> Flask:
        from core.policy import CCAS_STAFF

        self.ccas_staff = {str(r) for r in CCAS_STAFF}
        s = self._sql
        self.q_auth = s(AUTH_SQL, "api_tokens")
        self.q_plugins = s(PLUGINS_SQL, "plugin_states")
        self.q_case = s(CASE_SQL, "cases")
        self.q_case_lender = s(CASE_SQL + LENDER_VISIBLE, "cases",
                               expanding=("visible_states",))
        self.q_transitions = s(TRANSITIONS_SQL, "case_transitions")
        self.q_interviews = s(INTERVIEWS_SQL, "interviews")
        self.q_budget = s(BUDGET_SQL, "budget_lines")
        self.q_audit = s(AUDIT_SQL, "audit_events")
        self.q_count = s(COUNT_SQL, "cases")
        self.q_count_state = s(COUNT_SQL + " AND c.state = :state", "cases")
        self.q_list = s(LIST_SQL.format(state=""), "cases")
        self.q_list_state = s(LIST_SQL.format(state="AND c.state = :state"), "cases")
        self.q_list_search = s(LIST_SQL.format(state=SEARCH), "cases")
        self.q_count_search = s(COUNT_SQL.replace("FROM cases c", "FROM cases c JOIN persons p "
                                "ON p.tenant_id = c.tenant_id AND p.id = c.person_id")
                                + " " + SEARCH, "cases")
        self.q_referrals = s(REFERRALS_SQL.format(order="r.updated_at, r.id"), "referrals")
        self.q_referrals_desc = s(REFERRALS_SQL.format(order="r.updated_at DESC"),
                                  "referrals")
        ids = ("ids",)
        self.q_ref_history = s(REFERRAL_HISTORY_SQL, "referral_status_changes", expanding=ids)
        self.q_ref_attach = s(REFERRAL_ATTACHMENTS_SQL, "referral_attachments", expanding=ids)
        self.q_idem_select = s(IDEMPOTENCY_SELECT_SQL, "idempotency_keys")
        self.q_idem_insert = s(IDEMPOTENCY_INSERT_SQL, "idempotency_keys")
        self.q_idem_done = s(IDEMPOTENCY_DONE_SQL, "idempotency_keys")
        self.q_ccas_org = s(CCAS_ORG_SQL, "organisations")
        self.q_ref_insert = s(REFERRAL_INSERT_SQL, "referrals")
        self.q_ref_hist_insert = s(REFERRAL_HISTORY_INSERT_SQL, "referral_status_changes")
        self.q_recipients = s(RECIPIENTS_SQL, "users")
        self.q_outbox_insert = s(OUTBOX_INSERT_SQL, "outbox_messages")
        self.q_dash_counts = s(DASHBOARD_COUNTS_SQL, "cases")
        self.q_dash_stuck = s(DASHBOARD_STUCK_SQL, "cases", expanding=("open_states",))
        self.q_bare = s(BARE_SQL, "cases")
        app = Flask("hand")
        hand = self

        @app.get("/hand/cases/<case_id>")
        def case_read(case_id):
            with hand.engine.begin() as conn:
                user = hand._authenticate(conn)
                conn.execute(hand.q_plugins, {"tenant_id": user["tenant_id"]}).all()
                c, details = hand._read_case(conn, user, case_id)
                body = hand._case_json(c, user["role"], details)
                hand._audit(conn, user, "case.read", "Case", str(_uuid(c["id"])))
            return jsonify(body)

        @app.get("/hand/cases")
        def case_list():
            per_page = min(max(int(request.args.get("per_page", 25)), 1), 100)
            page = max(int(request.args.get("page", 1)), 1)
            state = request.args.get("state")
            q = (request.args.get("q") or "").strip().lower()
            with hand.engine.begin() as conn:
                user = hand._authenticate(conn)
                conn.execute(hand.q_plugins, {"tenant_id": user["tenant_id"]}).all()
                params = {"tenant_id": user["tenant_id"], "limit": per_page,
                          "offset": (page - 1) * per_page}
                if state:
                    params["state"] = state
                if q:
                    params["like"] = f"%{q}%"
                count_q, list_q = ((hand.q_count_search, hand.q_list_search) if q else
                                   (hand.q_count_state, hand.q_list_state) if state else
                                   (hand.q_count, hand.q_list))
                total = None
                if hand.list_audit["count"] or request.args.get("count"):
                    total = conn.execute(count_q, params).scalar()
                rows = conn.execute(list_q, {**params, "limit": per_page + 1}
                                    ).mappings().all()
                more = len(rows) > per_page
                rows = rows[:per_page]
                items = [hand._case_json(c, user["role"]) for c in rows]
                for action in hand.list_audit["cases"]:
                    hand._audit(conn, user, action, "Case", "", count=len(items))
            return jsonify({"items": items, "total": total, "has_more": more,
                            "page": page, "per_page": per_page})

        # the statuses' French labels, taken from the application once at start
        from core.models.referral import REFERRAL_STATUS_LABELS

        status_labels = {str(k.value): str(v) for k, v in REFERRAL_STATUS_LABELS.items()}

        def referral_page(conn, user, order_desc=False, limit=51):
            rows = conn.execute(hand.q_referrals_desc if order_desc else hand.q_referrals,
                                {"tenant_id": user["tenant_id"],
                                 "org_id": user["organisation_id"], "limit": limit}
                                ).mappings().all()
            ids = [_uuid(r["id"]) for r in rows]
            history, attachments = {}, {}
            if ids and not order_desc:
                for h in conn.execute(hand.q_ref_history, {"tenant_id": user["tenant_id"],
                                                           "ids": ids}):
                    history.setdefault(_uuid(h[0]), []).append(h)
                for a in conn.execute(hand.q_ref_attach, {"tenant_id": user["tenant_id"],
                                                          "ids": ids}):
                    attachments.setdefault(_uuid(a[0]), []).append(a)
            return rows, history, attachments

        def referral_json(r, history, attachments):
            rid = _uuid(r["id"])
            return {
                "id": str(rid), "reference": rid.hex[:8].upper(), "status": r["status"],
                "created_at": _iso(r["created_at"]), "updated_at": _iso(r["updated_at"]),
                "status_changed_at": _iso(r["status_changed_at"]),
                "status_label": status_labels[r["status"]],
                "from_organisation": {"id": str(_uuid(r["from_id"])), "name": r["from_name"]},
                "to_organisation": {"id": str(_uuid(r["to_id"])), "name": r["to_name"]},
                "person": {"first_name": r["first_name"], "last_name": r["last_name"],
                           "birth_date": _iso(r["birth_date"]), "phone": r["phone"],
                           "email": r["email"]},
                "purpose": r["purpose"], "amount_requested": _money(r["amount_requested"]),
                "note": r["note"], "consent": bool(r["consent"]),
                "consent_at": _iso(r["consent_at"]), "consent_by": r["consent_by"],
                "extra": _json(r["extra"]), "decline_reason": r["decline_reason"],
                "consent_method": r["consent_method"], "outcome": r["outcome"],
                "history": [{"from_status": h[1], "to_status": h[2], "at": _iso(h[3]),
                             "reason_code": h[4], "message": h[5]}
                            for h in history.get(rid, [])],
                "attachments": [{"id": str(_uuid(a[1])), "filename": a[2],
                                 "content_type": a[3], "size": a[4]}
                                for a in attachments.get(rid, [])]}

        @app.get("/hand/referrals")
        def referral_list():
            limit = int(request.args.get("limit", 50))
            with hand.engine.begin() as conn:
                user = hand._authenticate(conn)
                conn.execute(hand.q_plugins, {"tenant_id": user["tenant_id"]}).all()
                rows, history, attachments = referral_page(conn, user, limit=limit + 1)
                items = [referral_json(r, history, attachments) for r in rows[:limit]]
                for action in hand.list_audit["referrals"]:
                    hand._audit(conn, user, action, "Referral", "", count=len(items))
            cursor = None
            if len(rows) > limit:  # the last one shown: its change and its id
                cursor = base64.urlsafe_b64encode(json.dumps(
                    [items[-1]["updated_at"], items[-1]["id"]]).encode()).decode().rstrip("=")
            return jsonify({"items": items, "next_cursor": cursor})

        @app.post("/hand/referrals")
        def referral_create():
            key = request.headers["Idempotency-Key"]
            data = request.get_json()
            # the request's fingerprint, as the draft asks (SHA-256 of method, path and
            # the canonical JSON body: a replay with another body is refused)
            fingerprint = hashlib.sha256(b"POST\n" + request.path.encode() + b"\n" + json.dumps(
                data, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode()).hexdigest()
            now = dt.datetime.now(dt.UTC)
            with hand.engine.begin() as conn:  # the claim: its own transaction
                user = hand._authenticate(conn)
                base = {"tenant_id": user["tenant_id"], "user_id": user["user_id"], "key": key}
                if conn.execute(hand.q_idem_select, base).first() is not None:
                    abort(409)
                conn.execute(hand.q_idem_insert, {
                    **base, "id": uuid.uuid4(), "fingerprint": fingerprint, "created_at": now,
                    "expires_at": now + dt.timedelta(hours=24)})
            with hand.engine.begin() as conn:
                hand._begin(conn, user["tenant_id"])
                conn.execute(hand.q_plugins, {"tenant_id": user["tenant_id"]}).all()
                to_org = conn.execute(hand.q_ccas_org, base).first()
                rid = uuid.uuid4()
                person = data["person"]
                row = {  # the referral as stored, and as the answer gives it back
                    "tenant_id": user["tenant_id"], "id": rid,
                    "from_organisation_id": user["organisation_id"],
                    "to_organisation_id": _uuid(to_org[0]), "created_by_id": user["user_id"],
                    "first_name": person["first_name"], "last_name": person["last_name"],
                    "birth_date": dt.date.fromisoformat(person["birth_date"]),
                    "phone": person.get("phone"), "email": person.get("email"),
                    "purpose": data["purpose"],
                    "amount_requested": Decimal(str(data["amount_requested"])),
                    "note": data.get("note", ""), "consent": True, "consent_at": now,
                    "consent_by": user["full_name"] or user["email"],
                    "extra": {**hand.referral_extra.get(user["organisation_id"], {}),
                              **(data.get("extra") or {})},
                    "created_at": now, "updated_at": now, "status_changed_at": now}
                conn.execute(hand.q_ref_insert, row)
                conn.execute(hand.q_ref_hist_insert, {
                    "tenant_id": user["tenant_id"], "id": uuid.uuid4(), "referral_id": rid,
                    "at": now, "actor_label": f"token:{user['token_id']}:{user['email']}"})
                hand._audit(conn, user, "referral.create", "Referral", str(rid),
                            to_organisation=str(_uuid(to_org[0])))
                recipients = [to_org[3]] if to_org[3] else conn.execute(hand.q_recipients, {
                    "tenant_id": user["tenant_id"], "org_id": _uuid(to_org[0])}).scalars().all()
                text_ = (f"Bonjour,\n\nUne personne vous est orientée : objet "
                         f"{data['purpose']}.\n\nVoir l'orientation : /orientations/{rid}")
                if recipients:  # one executemany, as the application's unit of work
                    conn.execute(hand.q_outbox_insert, [{
                        "tenant_id": user["tenant_id"], "id": uuid.uuid4(),
                        "recipient": address, "created_at": now, "next_attempt_at": now,
                        "topic": f"referral:{rid}:created",
                        "subject": f"Nouvelle orientation {rid.hex[:8].upper()}",
                        "payload": {"text": text_, "html": f"<p>{text_}</p>",
                                    "attachments": []}} for address in recipients])
                body = referral_json(
                    {**row, "status": "sent", "from_id": user["organisation_id"],
                     "from_name": user["organisation_name"], "to_id": to_org[0],
                     "to_name": to_org[1], "consent_method": "referrer",
                     "decline_reason": None, "outcome": None},
                    {rid: [(rid, None, "sent", now, None, "")]}, {})
                conn.execute(hand.q_idem_done, {**base, "body": json.dumps(body)})
            response = jsonify(body)
            response.status_code = 201
            return response

        @app.get("/bare/cases/<case_id>")
        def bare(case_id):
            tenant_id = int(request.args["t"])
            with hand.engine.begin() as conn:
                hand._begin(conn, tenant_id)
                row = conn.execute(hand.q_bare, {"tenant_id": tenant_id,
                                                 "case_id": uuid.UUID(case_id)}).first()
            return jsonify({"id": str(_uuid(row[0])), "reference": row[1], "state": row[2],
                            "intake_date": _iso(row[3])})

        return app


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _str_uuid(value):
    return None if value is None else str(_uuid(value))


def _iso(value):
    """A date as ``YYYY-MM-DD``, a moment as ISO 8601 in UTC with its offset, as the
    application answers (SQLite gives the text it stores: a date as it is, a moment
    ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC, read as such)."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 10:
            return value
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


def _money(value):
    """A sum as the application writes it: two decimals (SQLite gives a number)."""
    return None if value is None else f"{Decimal(str(value)):.2f}"


def _json(value):
    """A JSON column (SQLite gives its text)."""
    return json.loads(value) if isinstance(value, str) else value


def _aware(value):
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _date(value):
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _json_list(value):
    return json.loads(value) if isinstance(value, str) else list(value or [])


# ----------------------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------------------


class StatementCounter:
    def __init__(self, engines):
        self.n = 0
        self.hook = None
        for engine in engines:
            event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, _conn, _cursor, statement, *_args):
        self.n += 1
        if self.hook is not None:
            self.hook(statement)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return (statistics.median(ordered), ordered[min(len(ordered) - 1,
                                                    int(round(0.95 * (len(ordered) - 1))))])


def _isolated(client):
    """Each request in a fresh ``contextvars`` context, as a server runs it."""
    return lambda method, *a, **kw: contextvars.Context().run(
        getattr(client, method), *a, **kw)


def endpoints(ctx: dict) -> dict:
    """name -> {variant: (method, url, kwargs, expected status)}."""
    slug, case_id, t = ctx["slug"], ctx["case_id"], ctx["tenant_id"]
    sw = {"Authorization": f"Bearer {ctx['tokens']['social_worker']}"}
    ref = {"Authorization": f"Bearer {ctx['tokens']['referrer']}"}
    counter = {"n": 0}

    def referral_body():
        counter["n"] += 1
        return {"json": {"person": {"first_name": "Léa", "last_name": f"Banc{counter['n']}",
                                    "birth_date": "1990-05-01", "phone": "0600000000"},
                         "purpose": "mobility", "amount_requested": "900.00",
                         "consent": True, "note": "Banc d'essai"},
                "headers": {**ref, "Idempotency-Key": f"bench-{uuid.uuid4()}"}}

    bare = ("get", f"/bare/cases/{case_id}?t={t}", {}, 200)
    return {
        "case_read": {
            "app": ("get", f"/api/v1/cases/{case_id}", {"headers": sw}, 200),
            "hand": ("get", f"/hand/cases/{case_id}", {"headers": sw}, 200),
            "bare": bare},
        "case_list": {
            "app": ("get", "/api/v1/cases?per_page=20", {"headers": sw}, 200),
            "hand": ("get", "/hand/cases?per_page=20", {"headers": sw}, 200)},
        "case_list_state": {
            "app": ("get", "/api/v1/cases?per_page=20&state=evaluation", {"headers": sw}, 200),
            "hand": ("get", "/hand/cases?per_page=20&state=evaluation", {"headers": sw}, 200)},
        "case_search": {
            "app": ("get", "/api/v1/cases?per_page=20&q=martin", {"headers": sw}, 200),
            "hand": ("get", "/hand/cases?per_page=20&q=martin", {"headers": sw}, 200)},
        # a name nobody has: the worst case of a search that reads the cases until 20 match
        "case_search_nobody": {
            "app": ("get", "/api/v1/cases?per_page=20&q=zzyx", {"headers": sw}, 200),
            "hand": ("get", "/hand/cases?per_page=20&q=zzyx", {"headers": sw}, 200)},
        "referral_list": {
            "app": ("get", "/api/v1/referrals", {"headers": ref}, 200),
            "hand": ("get", "/hand/referrals", {"headers": ref}, 200)},
        "referral_create": {
            "app": ("post", "/api/v1/referrals", referral_body, 201),
            "hand": ("post", "/hand/referrals", referral_body, 201)},
        "case_page": {
            "app": ("get", f"/t/{slug}/cases/{case_id}", {"login": "social_worker"}, 200),
            "hand": ("get", f"/hand/t/{slug}/cases/{case_id}", {"login": "social_worker"}, 200)},
        "portal_list": {
            "app": ("get", f"/t/{slug}/orientations/", {"login": "referrer"}, 200),
            "hand": ("get", f"/hand/t/{slug}/orientations/", {"login": "referrer"}, 200)},
        "manager_dashboard": {
            "app": ("get", f"/t/{slug}/", {"login": "manager"}, 200),
            "hand": ("get", f"/hand/t/{slug}/", {"login": "manager"}, 200)},
    }


class Runner:
    def __init__(self, app, hand: Hand, ctx: dict, counter: StatementCounter):
        self.app, self.hand, self.ctx, self.counter = app, hand, ctx, counter
        self.clients = {}
        hand_client = hand.app.test_client()
        self.clients["hand"] = self.clients["bare"] = _isolated(hand_client)
        for role in ("social_worker", "referrer", "manager"):
            client = app.test_client()
            response = contextvars.Context().run(
                client.post, f"/t/{ctx['slug']}/login",
                data={"email": f"{role}@{ctx['slug']}.test", "password": PASSWORD})
            if response.status_code != 302:
                sys.exit(f"login of {role} failed: {response.status_code}")
            self.clients[("app", role)] = _isolated(client)
            # the hand-written pages read the same server-side session from its cookie
            name = app.config["SESSION_COOKIE_NAME"]
            signed_in = hand.app.test_client()
            signed_in.set_cookie(name, client.get_cookie(name).value)
            self.clients[("hand", role)] = _isolated(signed_in)
        self.clients["app"] = _isolated(app.test_client())

    def call(self, variant, spec):
        method, url, kwargs, status = spec
        if callable(kwargs):
            kwargs = kwargs()
        kwargs = dict(kwargs)
        login = kwargs.pop("login", None)
        client = self.clients[(variant, login)] if login else self.clients[variant]
        response = client(method, url, **kwargs)
        if response.status_code != status:
            sys.exit(f"{variant} {url}: {response.status_code} "
                     f"{response.get_data(as_text=True)[:400]}")
        return response

    def statements(self, variant, spec) -> int:
        self.call(variant, spec)
        before = self.counter.n
        self.call(variant, spec)
        return self.counter.n - before

    def time(self, name: str, specs: dict, requests: int, repeat: int) -> dict:
        for variant, spec in specs.items():
            for _ in range(min(20, requests)):
                self.call(variant, spec)
        runs: dict[str, list[tuple[float, float]]] = {v: [] for v in specs}
        cpu: dict[str, list[float]] = {v: [] for v in specs}  # this process's CPU time
        for _ in range(repeat):
            # request by request, app then hand then bare: a load spike on a shared machine
            # hits the three alike
            samples: dict[str, list[float]] = {v: [] for v in specs}
            for _ in range(requests):
                for variant, spec in specs.items():
                    t0, c0 = time.perf_counter_ns(), time.process_time_ns()
                    self.call(variant, spec)
                    samples[variant].append((time.perf_counter_ns() - t0) / 1000)
                    cpu[variant].append((time.process_time_ns() - c0) / 1000)
            for variant, values in samples.items():
                runs[variant].append(_percentiles(values))
        out = {"statements": {v: self.statements(v, s) for v, s in specs.items()}}
        for variant, figures in runs.items():
            p50, p95 = min(figures)
            c50, c95 = _percentiles(cpu[variant])
            out[variant] = {"p50_us": round(p50), "p95_us": round(p95),
                            "runs_p50_us": [round(f[0]) for f in figures],
                            "cpu_p50_us": round(c50), "cpu_p95_us": round(c95)}
        for variant in ("hand", "bare"):
            if variant in out:
                out[f"ratio_{variant}"] = {
                    "p50": round(out["app"]["p50_us"] / out[variant]["p50_us"], 2),
                    "p95": round(out["app"]["p95_us"] / out[variant]["p95_us"], 2),
                    "cpu_p50": round(out["app"]["cpu_p50_us"] / out[variant]["cpu_p50_us"], 2),
                    "cpu_p95": round(out["app"]["cpu_p95_us"] / out[variant]["cpu_p95_us"], 2)}
        return out


def hook_dispatch(app, ctx, n: int = 20000) -> dict:
    """µs per request spent reaching the enabled plugins: ``hooks()`` (the tenant's enabled
    set, cached per request) and one call of each hook a case read makes."""
    from core import plugins, tenancy
    from core.db import db
    from core.models import Tenant

    with app.test_request_context("/"), tenancy.tenant_scope(ctx["tenant_id"]):
        g.tenant = db.session.get(Tenant, ctx["tenant_id"])
        hooks = plugins.hooks()
        enabled = sorted(hooks.enabled)
        hook = hooks.ccas_lending_bounds
        hook.answers(session=db.session)
        best, cpu = [], []
        for _ in range(max(n // 500, 5)):  # best of short blocks (busy machine)
            t0, c0 = time.perf_counter_ns(), time.process_time_ns()
            for _ in range(500):
                plugins.hooks().ccas_lending_bounds.answers(session=db.session)
            best.append((time.perf_counter_ns() - t0) / 500 / 1000)
            cpu.append((time.process_time_ns() - c0) / 500 / 1000)
        db.session.rollback()
    # CPU time of the process as well: on a machine shared by many processes the wall
    # clock mostly measures the wait for a core
    return {"enabled": enabled, "hooks_plus_one_call_us": round(min(best), 2),
            "hooks_plus_one_call_cpu_us": round(statistics.median(cpu), 2)}


def scoped_query(app, ctx, n: int = 2000) -> dict:
    """The tenant wall's cost: the same ORM select through the scoped session and filtered
    by hand in a ``cross_tenant`` block (the criteria not added)."""
    from sqlalchemy import select

    from core import tenancy
    from core.db import db
    from core.models import Case

    key = uuid.UUID(ctx["case_id"])
    t = ctx["tenant_id"]
    out = {}
    with app.app_context():
        session = db.session

        def scoped():
            with tenancy.tenant_scope(t):
                session.execute(select(Case.id, Case.reference).where(Case.id == key)).all()

        def by_hand():
            with tenancy.tenant_scope(t), tenancy.cross_tenant("benchmark: by-hand filter"):
                session.execute(select(Case.id, Case.reference).where(
                    Case.tenant_id == t, Case.id == key)).all()

        import logging
        logging.getLogger("core.tenancy").setLevel(logging.WARNING)
        scoped()
        by_hand()
        # many short alternating blocks, the best block of each: robust on a busy machine
        runs = {"scoped": [], "by_hand": []}
        cpu = {"scoped": [], "by_hand": []}
        for _ in range(max(n // 100, 5)):
            for name, fn in (("scoped", scoped), ("by_hand", by_hand)):
                t0, c0 = time.perf_counter_ns(), time.process_time_ns()
                for _ in range(100):
                    fn()
                runs[name].append((time.perf_counter_ns() - t0) / 100 / 1000)
                cpu[name].append((time.process_time_ns() - c0) / 100 / 1000)
        session.rollback()
    out = {k: round(min(v), 1) for k, v in runs.items()}
    out["ratio"] = round(out["scoped"] / out["by_hand"], 3)
    out.update({f"{k}_cpu": round(statistics.median(v), 1) for k, v in cpu.items()})
    out["ratio_cpu"] = round(out["scoped_cpu"] / out["by_hand_cpu"], 3)
    return out


def list_audit_rows(app, runner, specs) -> dict:
    """The audit rows the application writes per list read (the hand-written one writes
    the same): actions written by one request of each list endpoint."""
    from sqlalchemy import select

    from core import clock, tenancy
    from core.db import db
    from core.models import AuditEvent

    def actions_after(spec, variant="app"):
        # the rows stamped during the call (the generated history may carry later times
        # of the same day: "after the latest row" found nothing)
        start = clock.now()
        runner.call(variant, spec)
        end = clock.now()
        with app.app_context(), tenancy.tenant_scope(runner.ctx["tenant_id"]):
            rows = db.session.scalars(select(AuditEvent.action).where(
                AuditEvent.at >= start, AuditEvent.at <= end)).all()
            db.session.rollback()
        return list(rows)

    return {"cases": actions_after(specs["case_list"]["app"]),
            "referrals": actions_after(specs["referral_list"]["app"]),
            "portal": actions_after(specs["portal_list"]["app"])}


def summarise(paths: list[str]) -> None:
    """Markdown table of result files side by side (e.g. before and after a change)."""
    reports = [json.loads(Path(p).read_text()) for p in paths]
    names = list(dict.fromkeys(n for r in reports for n in r["endpoints"]))
    heads = [f"{r.get('label') or Path(p).stem} ({r['db']}{', RLS' if r.get('rls') else ''})"
             for r, p in zip(reports, paths, strict=True)]
    print("| endpoint | " + " | ".join(
        f"{h}: app p50 / p95 µs | hand p50 / p95 | ratio p50 / p95 | stmts" for h in heads)
        + " |")
    print("|---|" + "---|---|---|---|" * len(reports))
    for name in names:
        cells = []
        for r in reports:
            e = r["endpoints"].get(name)
            if e is None:
                cells.append(" | | | ")
                continue
            cells.append(
                f"{e['app']['p50_us']:,} / {e['app']['p95_us']:,} | "
                f"{e['hand']['p50_us']:,} / {e['hand']['p95_us']:,} | "
                f"{e['ratio_hand']['p50']} / {e['ratio_hand']['p95']}"
                + (f" (CPU {e['ratio_hand']['cpu_p50']} / {e['ratio_hand']['cpu_p95']})"
                   if "cpu_p50" in e["ratio_hand"] else "") + " | "
                f"{e['statements']['app']} / {e['statements']['hand']}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    if len(reports) > 1:
        growth_table(reports, heads, names)
    http = [(r, h) for r, h in zip(reports, heads, strict=True) if r.get("http")]
    for r, h in http:
        print(f"\nOver HTTP, {h}: {r['http']['workers']} gunicorn workers each")
        print("| endpoint | app p50 / p95 µs | hand p50 / p95 | ratio p50 / p95 | x bare |")
        print("|---|---|---|---|---|")
        for name, e in r["http"]["endpoints"].items():
            print(f"| {name} | {e['app']['p50_us']:,} / {e['app']['p95_us']:,} | "
                  f"{e['hand']['p50_us']:,} / {e['hand']['p95_us']:,} | "
                  f"{e['ratio_hand']['p50']} / {e['ratio_hand']['p95']} | "
                  f"{e.get('ratio_bare', {}).get('p50', '')} |")
        rss = r["http"]["rss_mb"]
        print(f"RSS per worker after the run (MB): app {rss['app']['workers']}, "
              f"hand-written {rss['hand']['workers']}")
    for r, h in zip(reports, heads, strict=True):
        generated = r.get("generated")
        if generated:
            print(f"\n{h}: generated {generated['rows']:,} rows in {generated['seconds']} s "
                  f"(seed {generated['seed']}, up to {generated['today']})")
        print(f"\n{h}: {r['date']}, {r['machine']}, {r['tenants']} tenant(s) x "
              f"{r['cases_per_tenant']:,} cases, {r['requests']} requests x best of "
              f"{r['repeat']}; hook dispatch {r['hook_dispatch']}; scoped query "
              f"{r['scoped_query']}; max RSS {r['max_rss_mb']} MB")


def growth_table(reports: list[dict], heads: list[str], names: list[str]) -> None:
    """p50 of the app and of the hand-written code per file, and the growth of the last
    file over the first (the hand-written figure is the control for the machine's load)."""
    sizes = [f"{r['tenants']}×{r['cases_per_tenant']:,}" for r in reports]
    print("\n| endpoint | " + " | ".join(f"app {s}" for s in sizes) + " | app growth | "
          + " | ".join(f"hand {s}" for s in sizes) + " | hand growth | app ÷ hand growth |")
    print("|---|" + "---|" * (2 * len(reports) + 3))
    for name in names:
        entries = [r["endpoints"].get(name) for r in reports]
        if any(e is None for e in entries):
            continue
        app = [e["app"]["p50_us"] for e in entries]
        hand = [e["hand"]["p50_us"] for e in entries]
        print(f"| {name} | " + " | ".join(f"{v:,}" for v in app)
              + f" | **{app[-1] / app[0]:.2f}** | " + " | ".join(f"{v:,}" for v in hand)
              + f" | {hand[-1] / hand[0]:.2f} | {app[-1] / app[0] / (hand[-1] / hand[0]):.2f} |")


def main() -> None:
    if sys.argv[1:2] == ["--summarise"]:
        summarise(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL superuser URL")
    parser.add_argument("--tenants", type=int, default=2)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--today", default="",
                        help="last day of the generated activity (default: today)")
    parser.add_argument("--only", default="")
    parser.add_argument("--no-rls", action="store_true")
    parser.add_argument("--profile", default="", help="cProfile one endpoint of the app")
    parser.add_argument("--profile-variant", default="app", help="app, hand or bare")
    parser.add_argument("--show-statements", default="",
                        help="print the SQL of one request of this endpoint (app and hand)")
    parser.add_argument("--http", action="store_true",
                        help="also over loopback HTTP, app and hand-written under gunicorn")
    parser.add_argument("--http-requests", type=int, default=0,
                        help="requests per run over HTTP (default: --requests)")
    parser.add_argument("--http-seconds", type=float, default=120,
                        help="at most this long per endpoint over HTTP")
    parser.add_argument("--http-workers", type=int, default=0,
                        help="gunicorn workers (default: core/gunicorn_conf.py's)")
    parser.add_argument("--check-case-states", action="store_true",
                        help="compare the case page (app / hand-written) for one case of "
                             "each state, for each CCAS role, then stop")
    parser.add_argument("--out", default="")
    parser.add_argument("--baseline", default=str(BASELINE))
    parser.add_argument("--save-baseline", action="store_true",
                        help="store this run's figures in the baseline, under its database")
    parser.add_argument("--label", default="", help="a note stored with the results")
    parser.add_argument("--workers", type=int, default=0,
                        help="processes generating a tenant's rows at once (PostgreSQL; "
                             "default: one per core there, one on SQLite)")
    parser.add_argument("--keep-db", action="store_true",
                        help="PostgreSQL: keep the scratch database (EXPLAIN afterwards)")
    args = parser.parse_args()

    if args.db.startswith("postgresql"):
        os.environ["CCAS_TEST_POSTGRES_URL"] = args.db
    else:
        os.environ.pop("CCAS_TEST_POSTGRES_URL", None)
    from core.testing.pytest_plugin import TestDatabase

    with tempfile.TemporaryDirectory(prefix="ccas-bench-") as tmp:
        database = TestDatabase(Path(tmp))
        try:
            run(database, args)
        finally:
            if args.keep_db and database.dialect == "postgresql":
                print(f"kept database {database.name} (drop it: DROP DATABASE {database.name})")
            else:
                database.drop()


def run(database, args) -> None:
    from core.app import create_app
    from core.db import db

    if args.no_rls and database.dialect == "postgresql":
        from core import rawsql
        from core.models import Base
        from core.models.base import is_tenant_model  # noqa: F401

        with database.owner_connection() as conn:
            for table in Base.metadata.tables.values():
                if "tenant_id" in table.c:
                    conn.execute(text(
                        f"ALTER TABLE {rawsql._ident(table.name)} DISABLE ROW LEVEL SECURITY"))
            conn.commit()
    from core.testing.pytest_plugin import TEST_WALL_KEY

    # the wall key the scratch database was migrated with (PostgreSQL's policies check it)
    config = {"CCAS_ENV": "test", "CCAS_TENANT_WALL_KEY": TEST_WALL_KEY,
              "CCAS_DATABASE_URL": database.app_url,
              "CCAS_DATABASE_OWNER_URL": database.owner_url, "SECRET_KEY": "bench",
              "WTF_CSRF_ENABLED": False, "CCAS_LOG_LEVEL": "WARNING",
              "CCAS_BASE_URL": "http://localhost", "RATELIMIT_ENABLED": False}
    app = create_app(config)
    today = dt.date.fromisoformat(args.today) if args.today else dt.date.today()
    workers = args.workers or ((os.cpu_count() or 1) if database.dialect == "postgresql" else 1)
    ctx = generate(app, args.tenants, args.cases, args.seed, today, workers=workers)
    if database.dialect == "postgresql":
        # statistics now, as after any bulk load: without them (autovacuum had not run yet)
        # the planner sorted every case of the tenant for a page of 20
        with database.owner_connection() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()

    hand_ctx = hand_context(app, ctx["tenant_id"], config)
    from benchmarks.hand_pages import page_context, same_page

    hand_ctx["pages"] = page_context(app, ctx)
    hand = Hand(database.app_url, hand_ctx)
    with app.app_context():
        counter = StatementCounter([db.engine, hand.engine])
    runner = Runner(app, hand, ctx, counter)
    # as a production worker does once it has built the application
    # (core.gunicorn_conf.post_worker_init): the apps' objects out of the collector's
    # full passes, for both sides alike
    gc.collect()
    gc.freeze()
    specs = endpoints(ctx)
    audits = list_audit_rows(app, runner, specs)
    hand.list_audit.update(audits)
    # the hand-written list counts only when the application does (the response says)
    probe = runner.call("app", specs["case_list"]["app"]).get_json()
    hand.list_audit["count"] = probe.get("total") is not None
    print(f"list reads audited by the app: {audits}; case list counts: "
          f"{hand.list_audit['count']}")

    only = [n for n in args.only.split(",") if n]
    chosen = [n for n in only if n in specs] if only else list(specs)  # "--only none"
    pages = check_pages(runner, specs, chosen, same_page)
    pages.update(check_json(runner, specs, chosen))
    if args.check_case_states:
        check_case_states(app, runner, ctx, same_page)
        return
    if args.show_statements:
        show_statements(runner, specs[args.show_statements])
        return
    if args.profile:
        profile(runner, args.profile_variant, specs[args.profile][args.profile_variant],
                args.requests)
        return
    results = {}
    header = f"{'endpoint':20} {'app p50/p95 µs':>17} {'hand p50/p95':>15} {'ratio':>11} " \
             f"{'bare p50':>9} {'x bare':>7} {'stmts app/hand':>15}"
    print(header)
    for name in chosen:
        r = runner.time(name, specs[name], args.requests, args.repeat)
        results[name] = r
        bare = r.get("bare", {}).get("p50_us")
        print(f"{name:20} {r['app']['p50_us']:>8,}/{r['app']['p95_us']:<8,} "
              f"{r['hand']['p50_us']:>7,}/{r['hand']['p95_us']:<7,} "
              f"{r['ratio_hand']['p50']:>5}/{r['ratio_hand']['p95']:<5} "
              f"{bare if bare else '':>9} "
              f"{r.get('ratio_bare', {}).get('p50', ''):>7} "
              f"{r['statements']['app']:>7}/{r['statements']['hand']:<7}")
    extra = {"hook_dispatch": hook_dispatch(app, ctx), "scoped_query": scoped_query(app, ctx)}
    print(f"hook dispatch (4 plugins): {extra['hook_dispatch']}")
    print(f"scoped ORM query vs filtered by hand: {extra['scoped_query']}")
    import resource
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu, "
                   f"load {os.getloadavg()[0]:.2f}",
        "python": platform.python_version(), "db": database.dialect,
        "rls": database.dialect == "postgresql" and not args.no_rls,
        "tenants": args.tenants, "cases_per_tenant": args.cases,
        "requests": args.requests, "repeat": args.repeat, "label": args.label,
        "max_rss_mb": rss, "endpoints": results, **extra, "same_html": pages,
        "generated": ctx["generated"],
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if args.http:
        report["http"] = http_figures(database, args, ctx,
                                      {n: specs[n] for n in chosen}, hand.list_audit)
        report["http_load_average"] = [round(x, 2) for x in os.getloadavg()]
        if report["http"]:
            print(f"gunicorn workers: {report['http']['workers']}; RSS MB after the run: "
                  f"{report['http']['rss_mb']}")
    compare_baseline(report, Path(args.baseline))
    if args.save_baseline:
        save_baseline(report, Path(args.baseline))
    RESULTS.mkdir(exist_ok=True)
    out = Path(args.out) if args.out else RESULTS / (
        f"{dt.date.today().isoformat()}-{database.dialect}"
        f"{'-norls' if args.no_rls else ''}-{args.cases}.json")
    out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    print(f"written {out} (max RSS {rss} MB, load {os.getloadavg()[0]:.2f})")


#: The pages whose hand-written equivalent renders the same HTML (``hand_pages``).
SAME_HTML = ("portal_list", "manager_dashboard", "case_page")


def check_pages(runner, specs, chosen, same_page) -> dict:
    """For each page whose hand-written equivalent is faithful, whether the two responses
    are the same HTML (CSRF tokens normalised); a difference is printed."""
    out = {}
    for name in chosen:
        if name not in SAME_HTML:
            continue
        app_html, hand_html = (runner.call(v, specs[name][v]).get_data(as_text=True)
                               for v in ("app", "hand"))
        same, diff = same_page(app_html, hand_html)
        out[name] = same
        if os.environ.get("CCAS_PAGES_DUMP"):  # a folder: both pages kept to read
            for variant, html in (("app", app_html), ("hand", hand_html)):
                Path(os.environ["CCAS_PAGES_DUMP"], f"{name}-{variant}.html").write_text(html)
        print(f"{name}: hand-written page {'the same HTML' if same else 'DIFFERS'} "
              f"({len(app_html):,} characters)")
        if diff:
            print(diff)
    return out


#: The API calls whose hand-written equivalent answers the same JSON.
SAME_JSON = ("case_read", "case_list", "case_list_state", "case_search", "referral_list",
             "referral_create")


def _masked_creation(body: dict) -> dict:
    """A creation's answer without what differs from one creation to the next (its id,
    reference and instants, the person's name the benchmark numbers): the rest must be
    the same, the organisations, the stored consent and the plugins' fields included."""
    varying = ("id", "reference", "created_at", "updated_at", "status_changed_at",
               "consent_at")
    out = {k: ("<varies>" if k in varying else v) for k, v in body.items()}
    out["person"] = {**body.get("person", {}), "last_name": "<varies>"}
    out["history"] = [{**h, "at": "<varies>"} for h in body.get("history", [])]
    return out


def check_json(runner, specs, chosen) -> dict:
    """For each API call, whether the hand-written equivalent answers the same JSON (a
    faster answer that says less, or says it in another format, is no equivalent); the
    differing keys are printed."""
    out = {}
    for name in chosen:
        if name not in SAME_JSON:
            continue
        app_json, hand_json = (runner.call(v, specs[name][v]).get_json()
                               for v in ("app", "hand"))
        if name == "referral_create":
            app_json, hand_json = _masked_creation(app_json), _masked_creation(hand_json)
        differences = _json_differences(app_json, hand_json)
        out[name] = not differences
        print(f"{name}: hand-written answer {'the same JSON' if not differences else 'DIFFERS'}")
        for where, app_value, hand_value in differences[:10]:
            print(f"  {where}: app {app_value!r} / hand {hand_value!r}")
    return out


def _json_differences(a, b, where="") -> list:
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in sorted(set(a) | set(b)):
            found += _json_differences(a.get(key, "<absent>"), b.get(key, "<absent>"),
                                       f"{where}.{key}")
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in _json_differences(x, y, f"{where}[{i}]")]
    return [] if a == b else [(where or "(whole)", a, b)]


def check_case_states(app, runner, ctx, same_page) -> None:
    """The case page of one case in each state (the first by reference), app against
    hand-written, for each CCAS role signed in: the same HTML, or the difference."""
    from sqlalchemy import func, select

    from core import tenancy
    from core.db import db
    from core.models import Case

    with app.app_context(), tenancy.tenant_scope(ctx["tenant_id"]):
        firsts = db.session.execute(select(Case.state, func.min(Case.reference))
                                    .group_by(Case.state)).all()
        ids = {state: db.session.scalar(select(Case.id).where(Case.reference == ref))
               for state, ref in firsts}
        db.session.rollback()
    slug, differ = ctx["slug"], 0
    for state, case_id in sorted(ids.items()):
        for role in ("social_worker", "manager"):
            app_html, hand_html = (runner.call(variant, (
                "get", f"{prefix}/t/{slug}/cases/{case_id}", {"login": role}, 200)
            ).get_data(as_text=True) for variant, prefix in (("app", ""), ("hand", "/hand")))
            same, diff = same_page(app_html, hand_html)
            differ += not same
            print(f"{state:24} {role:14} {'the same HTML' if same else 'DIFFERS'}")
            if diff:
                print(diff)
    print(f"{len(ids)} states x 2 roles: {differ} page(s) differ")


def hand_context(app, tenant_id: int, config: dict) -> dict:
    """What the hand-written equivalent takes from the application once, at start: the
    workflow's labels and moves, the plugins' lending bounds and referral fields, the wall
    key."""
    from sqlalchemy import select

    from core import plugins, referrals, tenancy, workflow
    from core.config import wall_key
    from core.db import db
    from core.models import Organisation, Tenant

    with app.test_request_context("/"), tenancy.tenant_scope(tenant_id):
        g.tenant = db.session.get(Tenant, tenant_id)
        flow = workflow.current()
        available = {}
        for code in flow.states:
            for role in ("social_worker", "manager", "secretary", "lender_agent"):
                available[(str(code), role)] = [t.target for t in flow.available(code, role)]
        bounds = [(b.lender, b.minimum, b.maximum, b.purposes) for _p, a in
                  plugins.hooks().ccas_lending_bounds.answers(session=db.session).results
                  for b in (a if isinstance(a, list | tuple) else [a])]
        # the fields the plugins add to a referral to the CCAS, by sender, as stored when
        # the body gives none (each field null): a hand-written service configures them
        ccas = db.session.scalars(select(Organisation).where(Organisation.kind == "ccas")
                                  .order_by(Organisation.name).limit(1)).first()
        referral_extra = {}
        for sender in db.session.scalars(select(Organisation)):
            fields = referrals.extra_fields(ccas, sender)
            referral_extra[sender.id] = fields.load({}) if fields is not None else {}
        db.session.rollback()
    return {"flow": flow, "available": available, "bounds": bounds,
            "referral_extra": referral_extra,
            "list_audit": {"cases": [], "referrals": [], "portal": [], "count": True},
            "wall_key": wall_key(config)}


def hand_wsgi():
    """gunicorn's entry point for the hand-written equivalent (``--http``):
    ``gunicorn -c python:core.gunicorn_conf 'benchmarks.request_speed:hand_wsgi()'``, configured
    by the environment as the application is, plus ``CCAS_BENCH_TENANT_ID`` and
    ``CCAS_BENCH_LIST_AUDIT`` (the audit rows the app writes per list read, JSON) and
    ``CCAS_BENCH_SLUG`` (the tenant's slug: the faithful pages' menus are taken at start)."""
    from core.app import create_app

    app = create_app()
    tenant_id = int(os.environ["CCAS_BENCH_TENANT_ID"])
    context = hand_context(app, tenant_id, app.config)
    context["list_audit"] = json.loads(os.environ.get("CCAS_BENCH_LIST_AUDIT") or "{}") \
        or context["list_audit"]
    from benchmarks.hand_pages import page_context

    context["pages"] = page_context(app, {"tenant_id": tenant_id,
                                          "slug": os.environ["CCAS_BENCH_SLUG"]})
    return Hand(app.config["CCAS_DATABASE_URL"], context).app


def http_figures(database, args, ctx: dict, specs: dict, list_audit: dict) -> dict:
    """``--http``: the same endpoints over loopback HTTP, the app and the hand-written
    equivalent each under gunicorn (``benchmarks/http_run.py``)."""
    import importlib.util

    from core.testing.pytest_plugin import TEST_WALL_KEY

    try:
        import gunicorn  # noqa: F401
    except ImportError:
        print("--http: gunicorn is not installed: HTTP mode skipped")
        return {}
    spec = importlib.util.spec_from_file_location(
        "ccas_bench_http_run", Path(__file__).resolve().parent / "http_run.py")
    http_run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(http_run)
    env = {"CCAS_ENV": "production", "CCAS_SECRET_KEY": "benchmark-" + uuid.uuid4().hex,
           "CCAS_TENANT_WALL_KEY": TEST_WALL_KEY, "CCAS_DATABASE_URL": database.app_url,
           "CCAS_DATABASE_OWNER_URL": database.owner_url,
           "CCAS_BASE_URL": "http://127.0.0.1", "CCAS_ALLOW_SQLITE": "1"}
    hand_env = {**env, "CCAS_BENCH_TENANT_ID": str(ctx["tenant_id"]),
                "CCAS_BENCH_SLUG": ctx["slug"],
                "CCAS_BENCH_LIST_AUDIT": json.dumps(list_audit)}
    with tempfile.TemporaryDirectory(prefix="ccas-bench-http-") as logs:
        return http_run.run(specs, ctx, env, hand_env, password=PASSWORD,
                            requests=args.http_requests or args.requests,
                            repeat=args.repeat, seconds=args.http_seconds,
                            workers=args.http_workers, logs=Path(logs),
                            percentiles=_percentiles)


def _baseline_key(report: dict) -> str:
    return f"{report['db']}{'' if report['rls'] or report['db'] == 'sqlite' else '-norls'}"


def save_baseline(report: dict, path: Path) -> None:
    """Store the run's endpoint figures (with when, where and under what load) in the
    checked-in baseline, under its database; the other databases' entries are kept."""
    baseline = json.loads(path.read_text()) if path.exists() else {}
    baseline[_baseline_key(report)] = {
        k: report[k] for k in ("date", "machine", "load_average", "tenants", "cases_per_tenant",
                               "requests", "repeat", "endpoints") if k in report}
    path.write_text(json.dumps(baseline, indent=1, sort_keys=True, default=str) + "\n")
    print(f"baseline saved: {path} [{_baseline_key(report)}]")


def compare_baseline(report: dict, path: Path) -> None:
    """Warn when a ratio to the hand-written equivalent is > 20 % worse than checked in."""
    if not path.exists():
        return
    baseline = json.loads(path.read_text())
    figures = baseline.get(_baseline_key(report), {}).get("endpoints", {})
    for name, r in report["endpoints"].items():
        old = figures.get(name, {}).get("ratio_hand")
        if not old:
            continue
        for p in ("p50", "p95"):
            if r["ratio_hand"][p] > old[p] * 1.2:
                print(f"WARNING: REGRESSION {name} {p} ratio {r['ratio_hand'][p]} "
                      f"> 1.2 x checked-in {old[p]} ({path.name})")


def show_statements(runner, specs) -> None:
    """The SQL of one request of each variant; with ``CCAS_STATEMENT_CALLERS=1``, each
    statement's nearest callers in the application (``file:line`` under core/ or
    plugins/), to find where a repeated read comes from."""
    import traceback

    seen = []
    callers = bool(os.environ.get("CCAS_STATEMENT_CALLERS"))

    def note(statement):
        where = ""
        if callers:
            frames = [f for f in traceback.extract_stack()
                      if ("/core/" in f.filename or "/plugins/" in f.filename
                          or f.filename.endswith(".html")) and "/site-packages/" not in f.filename]
            where = " <- " + " < ".join(
                f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames[-3:]))
        full = os.environ.get("CCAS_STATEMENT_FULL")  # the whole statement, not its start
        seen.append(" ".join(statement.split())[:None if full else 110] + where)

    for variant, spec in specs.items():
        runner.call(variant, spec)
        seen.clear()
        runner.counter.hook = note
        runner.call(variant, spec)
        runner.counter.hook = None
        print(f"--- {variant}: {len(seen)} statements")
        for statement in seen:
            print("   ", statement)


def profile(runner, variant: str, spec, requests: int) -> None:
    for _ in range(20):
        runner.call(variant, spec)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        runner.call(variant, spec)
    profiler.disable()
    stats = pstats.Stats(profiler)
    if os.environ.get("CCAS_PROFILE_DUMP"):
        stats.dump_stats(os.environ["CCAS_PROFILE_DUMP"])
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
