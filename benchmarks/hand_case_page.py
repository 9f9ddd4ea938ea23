"""The case page written by hand (``core.web.cases.case_page``), for ``request_speed.py``.

A part of :class:`benchmarks.hand_pages.Pages`: the same authentication (the session
cookie), the same reads as SQL written out below (the case and its person, the budget,
the history, the interviews and their authors, the workers of the assignment form, the
lender's FICP check and loan, and the panels' reads: the documents checklist, the
household, the syntheses, the stored files, the appointments with their case and worker,
the suggestions, the follow-ups, the plan, the tasks), the same audit row in the same
transaction, and the application's own template ``cases/case.html`` with its panels
rendered by the plain Jinja environment of ``hand_pages`` with the same values.

What the application takes from its registry, its workflow and the tenant's settings and
does not change per request (the moves of a role in a state, the reasons' and the
destinations' lists, the labels and choices of the panels' helpers, the panels of a role
in their order, the notice's version, the tenant's document list, the budget's floor, the
lenders' bounds) is taken from it once at start (:func:`case_page_context`).

Not reproduced (bounded; it does not apply to the benchmark's case, a refused one): the
name of an organisation a case was reoriented to when it is not one of the destinations
read at start; the FICP and loan blocks of the lender's agents are decided as the
application does, but the features' blocks of a role are those of a CCAS-staff reading
(taken at start), not re-asked per case. ``request_speed.py --check-case-states``
compares the page of one case in each state, for a social worker and the manager.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from types import SimpleNamespace

from flask import abort

CASE_SQL = """
SELECT c.id, c.reference, c.person_id, c.purpose, c.amount_requested, c.project, c.source,
       c.referring_organisation_id, c.social_worker_id, c.state, c.intake_date,
       c.state_changed_at, c.reoriented_to, c.version, c.co_borrower_id, c.notice_version,
       c.notice_given_on, p.first_name, p.last_name, p.birth_date, p.phone, p.email,
       p.address, p.postal_code, p.city, p.adults, p.children_ages, p.employment,
       o.name AS organisation_name
FROM cases c
JOIN persons p ON p.tenant_id = c.tenant_id AND p.id = c.person_id
LEFT JOIN organisations o ON o.tenant_id = c.tenant_id AND o.id = c.referring_organisation_id
WHERE c.tenant_id = :tenant_id AND c.id = :case_id"""
#: The lender's agents see a case from the states their plugin names.
CASE_VISIBLE = " AND c.state IN :visible_states"
SUBMITTED_SQL = """
SELECT 1 FROM case_transitions WHERE tenant_id = :tenant_id AND case_id = :case_id
AND to_state = 'submitted_to_lender' LIMIT 1"""
BUDGET_SQL = """
SELECT category, amount FROM budget_lines WHERE tenant_id = :tenant_id AND case_id = :case_id"""
TRANSITIONS_SQL = """
SELECT from_state, to_state, at, actor_label, reason_code, reason_text FROM case_transitions
WHERE tenant_id = :tenant_id AND case_id = :case_id ORDER BY at"""
INTERVIEWS_SQL = """
SELECT id, held_on, duration_minutes, shared_note, private_note, social_worker_id
FROM interviews WHERE tenant_id = :tenant_id AND case_id = :case_id
ORDER BY held_on, created_at"""
#: The workers of the assignment form (``cases.social_workers``); the booking form's
#: (``appointments.workers``, the same users in another order) are taken from them.
WORKERS_SQL = """
SELECT id, full_name, email, role FROM users
WHERE tenant_id = :tenant_id AND active AND role IN ('manager', 'social_worker')
ORDER BY full_name, email"""
#: The interviews' authors who are not among the workers (``cases.worker_names``).
AUTHORS_SQL = """
SELECT id, full_name, email FROM users WHERE tenant_id = :tenant_id AND id IN :ids"""
FICP_SQL = """
SELECT result, checked_on, source FROM credit_municipal_ficp_checks
WHERE tenant_id = :tenant_id AND case_id = :case_id"""
LOAN_SQL = """
SELECT id, reference, status, amount, months, withdrawal_ends_on, disbursed_on
FROM credit_municipal_loans WHERE tenant_id = :tenant_id AND case_id = :case_id"""
#: A disbursed loan's instalments and what was paid (``repayments.ledger_of``).
INSTALMENTS_SQL = """
SELECT due_date, borrower_payment FROM credit_municipal_installments
WHERE tenant_id = :tenant_id AND loan_id = :loan_id ORDER BY number"""
PAID_SQL = """
SELECT coalesce(sum(amount - early), 0), coalesce(sum(principal_part), 0)
FROM credit_municipal_repayments WHERE tenant_id = :tenant_id AND loan_id = :loan_id"""
DOCUMENTS_SQL = """
SELECT id, code, label, status, status_changed_at, updated_by_label, note FROM case_documents
WHERE tenant_id = :tenant_id AND case_id = :case_id ORDER BY position, label"""
HOUSEHOLD_SQL = """
SELECT id, first_name, last_name, birth_date, relationship FROM household_members
WHERE tenant_id = :tenant_id AND person_id = :person_id
ORDER BY birth_date IS NULL, birth_date, created_at"""
SYNTHESES_SQL = """
SELECT number, request, project, resources, prospects, written_at, written_by_id,
       written_by_label
FROM case_syntheses WHERE tenant_id = :tenant_id AND case_id = :case_id
ORDER BY number DESC"""
FILES_SQL = """
SELECT id, kind, issued_on, expires_on, filename, content_type, size, uploaded_at
FROM stored_documents WHERE tenant_id = :tenant_id AND case_id = :case_id
ORDER BY kind, uploaded_at DESC"""
#: The case's appointments with their worker (``appointments.of_case``: the case is this
#: one).
APPOINTMENTS_SQL = """
SELECT a.id, a.starts_at, a.duration_minutes, a.mode, a.place, a.kind, a.status,
       u.full_name, u.email
FROM appointments a
LEFT JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.social_worker_id
WHERE a.tenant_id = :tenant_id AND a.case_id = :case_id ORDER BY a.starts_at"""
SUGGESTIONS_SQL = """
SELECT s.id, s.plugin, s.label, s.why, s.action, s.blocking, s.status, s.reason,
       s.resolved_at, s.override_reason, s.overridden_by_id, s.overridden_at,
       u.full_name, u.email
FROM case_suggestions s
LEFT JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.resolved_by_id
WHERE s.tenant_id = :tenant_id AND s.case_id = :case_id"""
FOLLOW_UPS_SQL = """
SELECT id, planned_on, done_on, final FROM follow_ups
WHERE tenant_id = :tenant_id AND case_id = :case_id
ORDER BY planned_on IS NULL, planned_on, done_on, created_at"""
PLAN_SQL = """
SELECT signed_on, loan_months FROM accompaniment_plans
WHERE tenant_id = :tenant_id AND case_id = :case_id"""
TASKS_SQL = """
SELECT kind, message, status FROM accompaniment_tasks
WHERE tenant_id = :tenant_id AND case_id = :case_id ORDER BY created_at DESC, id DESC"""


def case_page_context(app, ctx: dict) -> dict:
    """What the hand-written case page takes from the application once, at start: the
    moves of each role in each state, the reasons' and destinations' lists, the panels of
    each role (their order and templates), the static values of the panels' helpers, the
    tenant's settings that the page reads (notice version, documents, budget floor)."""
    from flask import g
    from flask_login import login_user
    from sqlalchemy import select

    from core import plugins, referrals, tenancy, workflow
    from core.cases import budget
    from core.db import db
    from core.features import accompaniment, documents
    from core.models import (
        CHARGE_CATEGORIES,
        EMPLOYMENT_LABELS,
        PURPOSE_LABELS,
        RESOURCE_CATEGORIES,
        SOURCE_LABELS,
        Tenant,
        User,
    )
    from core.models.accompaniment import TASK_KIND_LABELS
    from core.models.appointment import APPOINTMENT_STATUS_LABELS, KIND_LABELS, MODE_LABELS
    from core.models.documents import DOCUMENT_STATUS_LABELS
    from core.models.person import RELATIONSHIP_LABELS
    from core.privacy import notice
    from core.workflow import reasons
    from plugins.credit_municipal.ficp_models import FICP_RESULT_LABELS
    from plugins.credit_municipal.models import LOAN_STATUS_LABELS

    static = ("relationship_labels", "synthesis_subjects", "file_content_labels",
              "document_max_mb", "appointment_mode_choices", "appointment_kind_choices",
              "suggestion_status_choices", "suggestion_status_labels",
              "suggestions_open_states", "documents_editable_states",
              "document_status_choices")
    from core.models import Case

    slug, tenant_id = ctx["slug"], ctx["tenant_id"]
    out: dict = {"panels": {}, "helpers": {}}
    # the case page's URL (any id: the menu depends on the page, not on the case)
    with app.test_request_context(f"/t/{slug}/cases/{uuid.UUID(int=0)}"), \
            tenancy.tenant_scope(tenant_id):
        tenant = db.session.get(Tenant, tenant_id)
        # a case of the tenant, to ask the features which blocks a role's case page has
        case = db.session.get(Case, (tenant_id, uuid.UUID(str(ctx["case_id"])))) \
            if ctx.get("case_id") else db.session.scalar(select(Case).limit(1))
        g.tenant = tenant
        flow = workflow.current()
        out["moves"] = {(code, role): flow.available(code, role) for code in flow.states
                        for role in ("social_worker", "manager", "secretary", "lender_agent")}
        out["reason_lists"] = {kind: reasons.reasons(tenant, kind) for kind in reasons.DEFAULTS}
        out["reason_labels"] = {code: label for kind in reasons.DEFAULTS
                                for code, label in reasons.reasons(tenant, kind).items()}
        out["destinations"] = workflow.destinations()
        out["core_destinations"] = {**reasons.CORE_DESTINATIONS, **out["destinations"]}
        out["menus"] = {}
        from core.web import context as web_context

        for role in ("social_worker", "manager", "secretary"):
            user = db.session.scalar(select(User).where(User.email == f"{role}@{slug}.test"))
            if user is None:
                continue
            login_user(user)
            g.pop("ccas_menu", None)
            out["menus"][role] = web_context.menu()
            # the blocks of the case page of a role: which, in which order (the FICP and
            # loan blocks, which depend on the case's rows, are decided per request; they
            # are templates rendered with their values, not included)
            panels = plugins.hooks().ccas_case_panels.answers(case=case, user=user).flat()
            out["panels"][role] = sorted(
                [(p.order, p.template) for p in panels if p.template and p.context is None],
                key=lambda p: p[0])
        processed: dict = {}
        app.update_template_context(processed)
        out["helpers"] = {name: processed[name] for name in static}
        out["notice_version"] = notice.notice_version(tenant)
        out["tenant_documents"] = [(r.code, r.label) for r in documents.tenant_documents(tenant)]
        out["min_remaining"] = budget.min_remaining_setting(tenant.settings)
        registry = plugins.registry()
        out["plugin_labels"] = {name: registry.label(name)
                                for name in [*registry.internal, *registry.plugins]}
        db.session.rollback()
    out.update({
        "states": flow.labels(), "terminal": {c for c, s in flow.states.items() if s.terminal},
        "bookable": flow.bookable(),
        "purposes": {str(k): v for k, v in PURPOSE_LABELS.items()},
        "sources": {str(k): v for k, v in SOURCE_LABELS.items()},
        "employments": {str(k): v for k, v in EMPLOYMENT_LABELS.items()},
        "consent_methods": referrals.CONSENT_METHODS,
        "resource_labels": RESOURCE_CATEGORIES, "charge_labels": CHARGE_CATEGORIES,
        "relationships": {str(k): v for k, v in RELATIONSHIP_LABELS.items()},
        "document_statuses": {str(k): v for k, v in DOCUMENT_STATUS_LABELS.items()},
        "modes": {str(k): v for k, v in MODE_LABELS.items()},
        "kinds": {str(k): v for k, v in KIND_LABELS.items()},
        "appointment_statuses": {str(k): v for k, v in APPOINTMENT_STATUS_LABELS.items()},
        "task_kinds": {str(k): v for k, v in TASK_KIND_LABELS.items()},
        "accompaniment_status": dict(accompaniment.STATUS_LABELS),
        "ficp_labels": {str(k): v for k, v in FICP_RESULT_LABELS.items()},
        "loan_labels": {str(k): v for k, v in LOAN_STATUS_LABELS.items()},
    })
    return out


def _uuid(value):
    return value if isinstance(value, uuid.UUID) or value is None else uuid.UUID(str(value))


def _aware(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _day(value):
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value[:10])


def _json_list(value):
    if value is None:
        return []
    if isinstance(value, str):
        import json

        return json.loads(value)
    return list(value)


class CasePage:
    """The case page, written by hand (a part of ``hand_pages.Pages``; its statements are
    ``cq_*``, apart from the dashboard's ``q_*``)."""

    def _case_statements(self):
        from sqlalchemy import Uuid, bindparam, text

        def sql(statement, expanding=(), **types):
            binds = [bindparam(n, type_=t) for n, t in types.items()]
            binds += [bindparam(n, expanding=True, type_=Uuid() if n == "ids" else None)
                      for n in expanding]
            return text(statement).bindparams(*binds)

        key = {"case_id": Uuid()}
        self.cq_case = sql(CASE_SQL, **key)
        self.cq_case_visible = sql(CASE_SQL + CASE_VISIBLE, ("visible_states",), **key)
        self.cq_submitted = sql(SUBMITTED_SQL, **key)
        self.cq_budget = sql(BUDGET_SQL, **key)
        self.cq_transitions = sql(TRANSITIONS_SQL, **key)
        self.cq_interviews = sql(INTERVIEWS_SQL, **key)
        self.cq_workers = sql(WORKERS_SQL)
        self.cq_authors = sql(AUTHORS_SQL, ("ids",))
        self.cq_ficp = sql(FICP_SQL, **key)
        self.cq_loan = sql(LOAN_SQL, **key)
        self.cq_instalments = sql(INSTALMENTS_SQL, loan_id=Uuid())
        self.cq_paid = sql(PAID_SQL, loan_id=Uuid())
        self.cq_documents = sql(DOCUMENTS_SQL, **key)
        self.cq_household = sql(HOUSEHOLD_SQL, person_id=Uuid())
        self.cq_syntheses = sql(SYNTHESES_SQL, **key)
        self.cq_files = sql(FILES_SQL, **key)
        self.cq_appointments = sql(APPOINTMENTS_SQL, **key)
        self.cq_suggestions = sql(SUGGESTIONS_SQL, **key)
        self.cq_follow_ups = sql(FOLLOW_UPS_SQL, **key)
        self.cq_plan = sql(PLAN_SQL, **key)
        self.cq_tasks = sql(TASKS_SQL, **key)

    # -- the page ---------------------------------------------------------------------------

    def case_page(self, slug: str, case_id: str):
        """``GET /t/<tenant>/cases/<case_id>`` (``core.web.cases.case_page``)."""
        hand, c = self.hand, self.c["case"]
        try:
            key = uuid.UUID(case_id)
        except ValueError:
            abort(404)
        with hand.engine.begin() as conn:
            tenant, user = self.signed_in(conn, slug)
            role = user.role
            p = {"tenant_id": tenant.id, "case_id": key}
            if role in hand.ccas_staff:
                row = conn.execute(self.cq_case, p).mappings().first()
            elif role in hand.flow.visible_from:
                row = conn.execute(self.cq_case_visible, {
                    **p, "visible_states": list(hand.flow.visible_from[role])}
                ).mappings().first()
            else:
                abort(403)
            if row is None:
                abort(404)
            sees_file = role in hand.ccas_staff or (
                role == "lender_agent"
                and conn.execute(self.cq_submitted, p).first() is not None)
            budget = dict(conn.execute(self.cq_budget, p).all()) if sees_file else {}
            timeline = conn.execute(self.cq_transitions, p).mappings().all()
            interviews = conn.execute(self.cq_interviews, p).mappings().all() if sees_file else []
            workers = conn.execute(self.cq_workers, {"tenant_id": tenant.id}).all() \
                if role in hand.ccas_staff else []
            authors = {_uuid(i["social_worker_id"]) for i in interviews
                       if i["social_worker_id"] is not None}
            # the authors among the workers read above from them, the others read
            # (``cases.worker_names`` with the page's workers)
            names = {_uuid(w[0]): w[1] or w[2] for w in workers if _uuid(w[0]) in authors}
            if authors - set(names):
                names.update((_uuid(r[0]), r[1] or r[2]) for r in conn.execute(
                    self.cq_authors, {"tenant_id": tenant.id,
                                      "ids": sorted(authors - set(names))}))
            ficp = conn.execute(self.cq_ficp, p).first() if role in self.case_readers else None
            loan = conn.execute(self.cq_loan, p).mappings().first() \
                if role in self.loan_readers else None
            ledger = None
            if loan is not None and loan["disbursed_on"] is not None:
                lp = {"tenant_id": tenant.id, "loan_id": _uuid(loan["id"])}
                ledger = (conn.execute(self.cq_instalments, lp).all(),
                          conn.execute(self.cq_paid, lp).first())
            hand._audit_page(conn, tenant.id, user, "case.read", obj=("Case", str(key)))
            # the panels' reads (the application makes them while the template renders)
            staff = role in hand.ccas_staff
            panels = self.c["case"]["panels"].get(role, [])
            templates = {t for _o, t in panels}
            docs = [self._document(r) for r in conn.execute(self.cq_documents, p).mappings()] \
                if staff or "documents/_section.html" in templates else []
            members = [self._member(r) for r in conn.execute(self.cq_household, {
                **p, "person_id": _uuid(row["person_id"])}).mappings()] \
                if "household/_panel.html" in templates else []
            versions = [SimpleNamespace(**{**r, "written_at": _aware(r["written_at"])})
                        for r in conn.execute(self.cq_syntheses, p).mappings()] \
                if "synthesis/_panel.html" in templates else []
            # each version's author by name (``synthesis.authors``): from the workers
            # read above, the others read, else the e-mail the version was signed with
            writers = {_uuid(v.written_by_id) for v in versions if v.written_by_id}
            writer_names = {_uuid(w[0]): w[1] or w[2] for w in workers
                            if _uuid(w[0]) in writers}
            if writers - set(writer_names):
                writer_names.update((_uuid(r[0]), r[1] or r[2]) for r in conn.execute(
                    self.cq_authors, {"tenant_id": tenant.id,
                                      "ids": sorted(writers - set(writer_names))}))
            synthesis_authors = {
                v.number: writer_names.get(_uuid(v.written_by_id) if v.written_by_id
                                           else None) or v.written_by_label.split(":")[-1]
                for v in versions}
            files = [self._file(r) for r in conn.execute(self.cq_files, p).mappings()] \
                if "documents/_files.html" in templates else []
            appointments = conn.execute(self.cq_appointments, p).all() \
                if "appointments/_section.html" in templates else []
            suggestions = conn.execute(self.cq_suggestions, p).mappings().all() \
                if "suggestions/_section.html" in templates else []
            if "accompaniment/_section.html" in templates:
                follow_ups = conn.execute(self.cq_follow_ups, p).all()
                plan = conn.execute(self.cq_plan, p).first()
                tasks = conn.execute(self.cq_tasks, p).all()
            else:
                follow_ups, plan, tasks = [], None, []

        today = dt.datetime.now(dt.UTC).astimezone(tenant.zone).date()
        case = self._case(row, workers)
        state = case.state
        moves = c["moves"].get((state, role), [])
        blocking = []
        if moves and state not in c["terminal"] and state == "ficp_pending" \
                and role in self.case_readers:
            if ficp is None:
                blocking = ["Le prêteur n'a pas encore enregistré le résultat du contrôle "
                            "FICP."]
            elif ficp[0] == "registered":
                blocking = ["La personne est inscrite au FICP : le dossier ne peut pas "
                            "continuer."]
        destinations = c["destinations"] if any(t.destination for t in moves) else {}
        lines = {cat: Decimal(str(a)) for cat, a in budget.items()}
        interview_rows = [SimpleNamespace(
            id=_uuid(i["id"]), held_on=_day(i["held_on"]),
            duration_minutes=i["duration_minutes"], shared_note=i["shared_note"],
            private_note=i["private_note"], social_worker_id=_uuid(i["social_worker_id"]))
            for i in interviews]
        entered = {t["to_state"] for t in timeline}
        timeline = [SimpleNamespace(**{**t, "at": _aware(t["at"])}) for t in timeline]

        # the plugins' blocks (HTML rendered by the plugin's template) and the features'
        # (templates included with the page's context), in their order
        blocks = [(o, SimpleNamespace(template=t, title=None, html=None, context=None))
                  for o, t in panels]
        if ficp is not None or (state == "ficp_pending" and role in self.case_readers):
            check = None if ficp is None else SimpleNamespace(
                result=ficp[0], checked_on=_day(ficp[1]), source=ficp[2])
            blocks.append((10, SimpleNamespace(
                template=None, title="Contrôle FICP", context=None,
                html=self.env.get_template("credit_municipal/ficp_case_panel.html").render(
                    check=check, labels=c["ficp_labels"], case=case))))
        if loan is not None:
            blocks.append((30, SimpleNamespace(template=None, title="Prêt", context=None,
                                               html=self._loan_panel(loan, ledger, today))))
        blocks.sort(key=lambda b: b[0])

        self.case_data = {
            "documents": docs, "members": members, "versions": versions,
            "synthesis_authors": synthesis_authors, "files": files,
            "appointments": [self._appointment(r, case) for r in appointments],
            "suggestions": [self._suggestion(r) for r in suggestions],
            "accompaniment": self._accompaniment(follow_ups, plan, tasks, today),
            "today": today,
            "kinds": self._file_kinds(docs),
            "bookers": sorted(case.workers, key=lambda u: (u.role != "social_worker",
                                                          u.full_name or u.email)),
        }
        path = self.url_for("cases.case_page", case_id=case.id)
        context = {
            "case": case, "person": case.person, "role": role, "moves": moves,
            "reason_lists": {t.name: c["reason_lists"][t.reason] for t in moves if t.reason},
            "destinations": destinations, "blocking": blocking, "timeline": timeline,
            "states": c["states"], "purposes": c["purposes"], "sources": c["sources"],
            "employments": c["employments"], "sees_file": sees_file,
            "consent_methods": c["consent_methods"], "interviews": interview_rows,
            "interview_authors": names, "private_notes": role in self.social_workers,
            "budget": lines, "figures": self._figures(lines, case.person) if sees_file else None,
            "resource_labels": c["resource_labels"], "charge_labels": c["charge_labels"],
            "workers": case.workers, "panels": [b for _o, b in blocks], "errors": {},
            "message": None, "failed_transition": None, "conflict": False,
            "reason_labels": c["reason_labels"],
            "can_evaluate": role in self.social_workers and state in self.interview_states,
            "can_summarise": sees_file and "instruction" in entered,
            "destination": self._destination(case.reoriented_to),
            "notices": self._notices(case.purpose, case.amount_requested),
        }
        return self.render("cases/case.html", tenant, user, "cases.case_page", path=path,
                           **context)

    # -- rows into the values the templates read ----------------------------------------------

    def _loan_panel(self, loan, ledger, today):
        """The lender's block: the loan, its outstanding principal and arrears (the
        application's pure arrears function, as the budget uses its budget arithmetic)."""
        from plugins.credit_municipal.arrears import loan_arrears

        cent = Decimal("0.01")
        outstanding = position = None
        if ledger is not None:
            rows, (regular, principal) = ledger
            outstanding = Decimal(str(loan["amount"])) - Decimal(str(principal)).quantize(cent)
            if loan["status"] == "repaying":
                position = loan_arrears(
                    [SimpleNamespace(due_date=_day(d), borrower_payment=Decimal(str(b)))
                     for d, b in rows], Decimal(str(regular)).quantize(cent), today)
        view = SimpleNamespace(
            id=_uuid(loan["id"]), reference=loan["reference"], status=loan["status"],
            amount=Decimal(str(loan["amount"])), months=loan["months"],
            withdrawal_ends_on=_day(loan["withdrawal_ends_on"]))
        return self.env.get_template("credit_municipal/loan_case_panel.html").render(
            loan=view, labels=self.c["case"]["loan_labels"], outstanding=outstanding,
            position=position)

    def _case(self, r, workers):
        person = SimpleNamespace(
            id=_uuid(r["person_id"]), first_name=r["first_name"], last_name=r["last_name"],
            full_name=f"{r['first_name']} {r['last_name']}".strip(),
            birth_date=_day(r["birth_date"]), phone=r["phone"], email=r["email"],
            address=r["address"], postal_code=r["postal_code"], city=r["city"],
            adults=r["adults"], children_ages=_json_list(r["children_ages"]),
            employment=r["employment"])
        people = [SimpleNamespace(id=_uuid(w[0]), full_name=w[1], email=w[2], role=str(w[3]))
                  for w in workers]
        worker_id = _uuid(r["social_worker_id"])
        worker = next((w for w in people if w.id == worker_id), None)
        organisation = None if r["organisation_name"] is None else SimpleNamespace(
            name=r["organisation_name"])
        return SimpleNamespace(
            id=_uuid(r["id"]), reference=r["reference"], person=person, person_id=person.id,
            purpose=r["purpose"], amount_requested=Decimal(str(r["amount_requested"])),
            project=r["project"], source=r["source"], referring_organisation=organisation,
            social_worker_id=worker_id, social_worker=worker, state=r["state"],
            intake_date=_day(r["intake_date"]), state_changed_at=_aware(r["state_changed_at"]),
            reoriented_to=r["reoriented_to"], version=r["version"],
            co_borrower_id=_uuid(r["co_borrower_id"]), notice_version=r["notice_version"],
            notice_given_on=_day(r["notice_given_on"]), workers=people)

    def _document(self, r):
        return SimpleNamespace(
            id=_uuid(r["id"]), code=r["code"], label=r["label"], status=r["status"],
            status_label=self.c["case"]["document_statuses"][r["status"]],
            status_changed_at=_aware(r["status_changed_at"]),
            updated_by_label=r["updated_by_label"], note=r["note"])

    def _member(self, r):
        return SimpleNamespace(
            id=_uuid(r["id"]), full_name=f"{r['first_name']} {r['last_name']}".strip(),
            birth_date=_day(r["birth_date"]), relationship=r["relationship"],
            relationship_label=self.c["case"]["relationships"][r["relationship"]])

    def _file(self, r):
        return SimpleNamespace(
            id=_uuid(r["id"]), kind=r["kind"], issued_on=_day(r["issued_on"]),
            expires_on=_day(r["expires_on"]), filename=r["filename"],
            content_type=r["content_type"], size=r["size"],
            uploaded_at=_aware(r["uploaded_at"]),
            valid_on=lambda day, e=_day(r["expires_on"]): e is None or e >= day)

    def _appointment(self, r, case):
        c = self.c["case"]
        starts = _aware(r[1])
        return SimpleNamespace(
            id=_uuid(r[0]), starts_at=starts, ends_at=starts + dt.timedelta(minutes=r[2]),
            duration_minutes=r[2], mode_label=c["modes"][r[3]], place=r[4], kind=r[5],
            kind_label=c["kinds"][r[5]], status=r[6],
            status_label=c["appointment_statuses"][r[6]], case=case,
            social_worker=SimpleNamespace(full_name=r[7], email=r[8]))

    def _suggestion(self, r):
        resolver = None if r["full_name"] is None and r["email"] is None else \
            SimpleNamespace(full_name=r["full_name"], email=r["email"])
        return SimpleNamespace(
            id=_uuid(r["id"]), plugin=r["plugin"], label=r["label"], why=r["why"],
            action=r["action"], blocking=bool(r["blocking"]), status=r["status"],
            reason=r["reason"], resolved=r["status"] != "open",
            resolved_at=_aware(r["resolved_at"]), resolved_by=resolver,
            overridden=r["overridden_by_id"] is not None,
            overridden_at=_aware(r["overridden_at"]), override_reason=r["override_reason"])

    def _accompaniment(self, follow_ups, plan, tasks, today):
        c = self.c["case"]
        rows = [SimpleNamespace(id=_uuid(f[0]), planned_on=_day(f[1]), done_on=_day(f[2]),
                                final=bool(f[3])) for f in follow_ups]
        task_rows = [SimpleNamespace(kind_label=c["task_kinds"][t[0]], message=t[1],
                                     status=t[2]) for t in tasks]
        plan_row = None if plan is None else SimpleNamespace(signed_on=_day(plan[0]),
                                                             loan_months=plan[1])
        if any(t.status == "open" for t in task_rows):
            status = "acting"
        elif any(f.final and f.done_on is not None for f in rows):
            status = "closed"
        else:
            status = "following" if plan_row is not None else "none"
        return SimpleNamespace(
            plan=plan_row, follow_ups=rows, tasks=task_rows,
            overdue_ids={f.id for f in rows if f.done_on is None and f.planned_on
                         and f.planned_on < today},
            next=next((f for f in rows if f.done_on is None and f.planned_on
                       and f.planned_on >= today), None),
            status=c["accompaniment_status"][status])

    def _file_kinds(self, docs):
        out: dict[str, str] = {}
        for d in docs:
            out.setdefault(d.code, d.label)
        for code, label in self.c["case"]["tenant_documents"]:
            out.setdefault(code, label)
        out.setdefault("other", "Autre pièce")
        return list(out.items())

    def _figures(self, lines, person):
        from core.cases import RESOURCE_CATEGORIES, budget

        if not lines:
            return None
        return budget.compute(
            [v for k, v in lines.items() if k in RESOURCE_CATEGORIES],
            [v for k, v in lines.items() if k not in RESOURCE_CATEGORIES],
            person.adults or 1, [int(a) for a in person.children_ages],
            self.c["case"]["min_remaining"])

    def _destination(self, code):
        if not code:
            return ""
        return self.c["case"]["core_destinations"].get(code, "Une autre structure")

    def _notices(self, purpose, amount):
        """``cases.lending_notices``: a sentence per lender when none lends this."""
        from core import formats

        bounds = self.hand.bounds
        if amount is None or not bounds or any(
                lo <= amount <= hi and (ps is None or purpose in ps)
                for _l, lo, hi, ps in bounds):
            return []
        out = []
        for lender, lo, hi, ps in bounds:
            span = f"(de {formats.money(lo)} à {formats.money(hi)})"
            if ps is not None and purpose not in ps:
                out.append(f"Cet objet n'est pas financé par {lender} : l'entretien dira "
                           "s'il faut réorienter la personne.")
            elif amount < lo:
                out.append(f"Le montant demandé ({formats.money(amount)}) est inférieur à ce "
                           f"que prête {lender} {span} : une aide ou un autre dispositif "
                           "conviendra peut-être mieux.")
            else:
                out.append(f"Le montant demandé ({formats.money(amount)}) dépasse ce que "
                           f"prête {lender} {span}")
        return out

    def _case_globals(self):
        """The panels' helpers, answering from the rows read by :meth:`case_page`."""
        from core.cases import INTERVIEW_STATES
        from core.cases.household import ADULT_AGE, LOCKED_STATES
        from core.policy import CASE_READERS, LOAN_READERS, SOCIAL_WORKERS

        c = self.c["case"]
        data = lambda name: self.case_data[name]  # noqa: E731
        zone = lambda: self.page["zone"]  # noqa: E731

        def age(member):
            born, day = member.birth_date, data("today")
            if born is None:
                return None
            return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

        def adult(member):
            years = age(member)
            return member.relationship != "child" if years is None else years >= ADULT_AGE

        def staff_minutes(rows):
            out = {code: 0 for code, _label in c["helpers"]["appointment_kind_choices"]}
            for a in rows:
                if a.status == "held":
                    out[a.kind] += a.duration_minutes
            return out

        self.env.globals.update({
            **c["helpers"],
            "case_documents": lambda _case: list(data("documents")),
            "case_files": lambda _case: data("files"),
            "case_file_kinds": lambda _case: list(data("kinds")),
            "documents_today": lambda: data("today"),
            "household_members": lambda _case: data("members"),
            "household_age": age, "household_adult": adult,
            "household_co_borrower_editable": lambda case: (
                case.state not in self.locked_states and case.state not in c["terminal"]),
            "synthesis_versions": lambda _case: data("versions"),
            "synthesis_authors": lambda _rows: data("synthesis_authors"),
            "notice_current_version": lambda: c["notice_version"],
            "case_appointments": lambda _case: data("appointments"),
            "appointment_staff_minutes": staff_minutes,
            "appointment_workers": lambda: data("bookers"),
            "appointment_bookable": lambda case: case.state in c["bookable"],
            "appointment_local": lambda value: value.astimezone(zone()),
            "case_suggestions": lambda _case: data("suggestions"),
            "suggestion_plugin_label": lambda name: c["plugin_labels"].get(name, name),
            "accompaniment_block": lambda _case: data("accompaniment"),
            "ccas_case_page_url": lambda case: self.url_for("cases.case_page",
                                                            case_id=case.id),
        })
        self.locked_states = LOCKED_STATES
        self.case_readers = {str(r) for r in CASE_READERS}
        self.loan_readers = {str(r) for r in LOAN_READERS}
        self.social_workers = {str(r) for r in SOCIAL_WORKERS}
        self.interview_states = {str(s) for s in INTERVIEW_STATES}
