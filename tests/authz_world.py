"""A seeded "world" for the authorization matrix (tests/test_authz_matrix.py): two tenants,
each with one object of every kind, built through the services (or the models where the
earlier steps belong to other features), one user per role, and the markers the
data-minimisation checks look for in every response.

``build_world(session, in_tenant, password_hash, import_dir)`` returns
``{slug: TenantWorld}``; ``TenantWorld.ids`` maps the URL variable names of the application
(``case_id``, ``referral_id``…) to sample values, and names the objects the mutating
endpoints act on in the state their form needs (``pending_referral_id``,
``granted_loan_id``…). ``WorldState`` puts the world back after a check changed it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from core import clock
from core.accounts import identity_providers

ROLES = ("manager", "secretary", "social_worker", "lender_agent", "referrer", "funder")
ROLE_ORGS = {
    "lender_agent": ("Crédit Municipal", "lender"),
    "referrer": ("Association partenaire", "association"),
    "funder": ("Ville", "funder"),
}
OTHER_ORG = ("Autre association", "association")


PDF = b"%PDF-1.4\n%test\n"


def markers(slug: str) -> dict[str, str]:
    """Strings that appear in one tenant's data only, by kind."""
    name = slug.capitalize()
    return {
        "person": f"Marqueur{name}",           # every person's last name in the tenant
        "private_note": f"NOTEPRIVEE{slug}",   # interview private note
        "shared_note": f"NOTEPARTAGEE{slug}",  # interview shared note
        "followup_private": f"SUIVIPRIVE{slug}",
        "followup_shared": f"SUIVIPARTAGE{slug}",
        "eval_note": f"NOTEEVALUATION{slug}",  # shared note of a file not yet submitted
        "other_org_person": f"Bastien{slug}",  # first name in the other partner's referral
    }


@dataclass
class TenantWorld:
    slug: str
    tenant: object
    users: dict = field(default_factory=dict)      # role -> User
    ids: dict = field(default_factory=dict)        # URL variable -> value (own organisation)
    other_org_ids: dict = field(default_factory=dict)  # referral of the other organisation
    case_ids: dict = field(default_factory=dict)   # label -> case id
    markers: dict = field(default_factory=dict)


def _user(session, accounts, password_hash, tenant, role, org, kind, n):
    from core.models import Organisation

    if session.scalar(select(Organisation.id).where(Organisation.name == org)) is None:
        accounts.create_organisation(session, org, kind)
    return accounts.create_user(session, f"{role}{n}@{tenant.slug}.test", role, org, None,
                                full_name=f"{role.title()} {tenant.slug}",
                                password_hash=password_hash)


def _transitions(session, case, *steps):
    from core.models import CaseTransition

    previous = "intake"
    for target in steps:
        session.add(CaseTransition(case_id=case.id, from_state=previous, to_state=target))
        previous = target


def build_tenant(session, in_tenant, slug: str, password_hash: str, import_dir: Path,
                 plugin_enabled: bool) -> TenantWorld:
    from core import accounts, cases, outbox, plugins, referrals
    from core.cases import household
    from core.features import accompaniment, documents, staff_time, stored_documents, workshops
    from core.features import appointments as appts
    from core.models import (
        Case,
        CaseSuggestion,
        Organisation,
        OutboxStatus,
        State,
        SuggestionStatus,
    )
    from plugins.credit_municipal import loans as loan_service
    from plugins.credit_municipal.tests.loan_helpers import signature

    mark = markers(slug)
    tenant = accounts.create_tenant(session, slug, f"CCAS {slug.title()}", slug.title())
    world = TenantWorld(slug=slug, tenant=tenant, markers=mark)
    with in_tenant(tenant):
        accounts.create_organisation(session, f"CCAS de {tenant.city}", "ccas")
        for n, role in enumerate(ROLES):
            org, kind = ROLE_ORGS.get(role, (f"CCAS de {tenant.city}", "ccas"))
            world.users[role] = _user(session, accounts, password_hash, tenant, role, org,
                                      kind, n)
        other_referrer = _user(session, accounts, password_hash, tenant, "referrer",
                               *OTHER_ORG, 99)
        plugins.set_enabled(session, "credit_municipal", True)
        world_token, _clear = accounts.create_token(session, world.users["referrer"].email,
                                                    "Logiciel partenaire")
        # An identity provider (unreachable on purpose: no network in tests; its sign-in
        # button answers 503, never 500)
        world_provider = identity_providers.set_provider(
            session, "Annuaire", issuer="http://127.0.0.1:9/op", client_id="ccas",
            client_secret="secret-du-monde", domains=f"{slug}.test", tenant=tenant)
        session.commit()
        plugins.forget_enabled_cache()
        u = world.users

        def person(first, email=None):
            return cases.create_person(session, cases.PersonData(
                first, mark["person"], date(1988, 3, 14), email=email, phone="0600000000",
                address="3 rue des Lilas", postal_code="31000", city="Toulouse"))

        # -- referrals: one from each partner organisation, with an attachment ---------------
        def referral(actor, first):
            return referrals.submit(session, actor, referrals.ReferralInput(
                first_name=first, last_name=mark["person"], birth_date=date(1990, 1, 2),
                purpose="mobility", amount_requested="1200", consent=True,
                email=f"{first.lower()}@example.org", note="Besoin d'un véhicule."),
                [referrals.AttachmentInput("piece.pdf", "application/pdf",
                                           b"%PDF-1.4\n%test\n")], tenant=tenant)

        ref_a = referral(u["referrer"], "Alice")
        ref_b = referral(other_referrer, mark["other_org_person"])
        # waiting for the CCAS's answer (accept, decline): sent by the referrer's organisation
        ref_pending = referral(u["referrer"], "Gaston")
        session.flush()

        # -- the main case: opened from referral A, evaluated, submitted to the lender --------
        case_main = referrals.accept(session, ref_a, u["secretary"], tenant=tenant)
        case_main.person.email = "alice@example.org"
        case_main.social_worker_id = u["social_worker"].id
        _transitions(session, case_main, "ficp_pending", "documents_requested", "evaluation")
        case_main.state = State.evaluation
        session.flush()
        cases.add_interview(session, case_main, u["social_worker"], clock.today().isoformat(),
                            45, mark["shared_note"], mark["private_note"])
        documents.create_checklist(session, case_main, tenant, u["secretary"])
        main_file = stored_documents.attach(session, tenant, case_main, kind="identity",
                                            data=PDF, filename="piece.pdf",
                                            actor=u["secretary"])
        suggestion = CaseSuggestion(case_id=case_main.id, plugin="caf", code="fsl",
                                    label="Fonds de solidarité logement", blocking=True,
                                    status=SuggestionStatus.mobilised)
        session.add(suggestion)
        session.flush()
        appointment = appts.book(session, case_main, str(u["social_worker"].id), appts.Slot(
            day=(clock.today() + timedelta(days=10)).isoformat(), time="10:00",
            place="CCAS"), u["secretary"], tenant)
        _transitions(session, case_main, "instruction", "submitted_to_lender")
        case_main.state = State.submitted_to_lender
        session.flush()

        # -- a case waiting for the lender's FICP check ------------------------------------
        case_ficp = cases.open_case(session, person("Émile"), "mobility", "900",
                                    actor=u["secretary"], tenant=tenant)
        _transitions(session, case_ficp, "ficp_pending")
        case_ficp.state = "ficp_pending"
        session.flush()

        # -- a case in evaluation: the lender knows the person, not yet the evaluation ------
        case_eval = cases.open_case(session, person("Fanny"), "housing", "700",
                                    actor=u["secretary"], tenant=tenant)
        _transitions(session, case_eval, "ficp_pending", "documents_requested", "evaluation")
        case_eval.state = State.evaluation
        session.flush()
        cases.add_interview(session, case_eval, u["social_worker"], clock.today().isoformat(),
                            30, mark["eval_note"], "")
        # "other aids first", still open: resolved, overridden or refreshed away in evaluation
        eval_suggestion = CaseSuggestion(case_id=case_eval.id, plugin="caf", code="fsl",
                                         label="Fonds de solidarité logement", blocking=True,
                                         status=SuggestionStatus.open)
        session.add(eval_suggestion)
        session.flush()

        documents.create_checklist(session, case_eval, tenant, u["secretary"])
        eval_file = stored_documents.attach(session, tenant, case_eval, kind="resources",
                                            data=PDF, filename="bulletin.pdf",
                                            actor=u["secretary"])
        member = household.add_member(session, case_eval.person, {
            "first_name": "Lou", "relationship": "partner", "birth_date": "1987-06-01"},
            u["social_worker"], tenant)
        # a referral the CCAS sent to the referrer's organisation, accepted by it: the
        # partner reports its progress and outcome
        def followed_by(org_name, referrer, first):
            sent = referrals.submit(session, u["secretary"], referrals.ReferralInput(
                first_name=first, last_name=mark["person"], birth_date=date(1992, 1, 2),
                purpose="employment", amount_requested="900", consent=True,
                phone="0600000001",
                to_organisation_id=session.scalar(select(Organisation.id).where(
                    Organisation.name == org_name))), [], tenant=tenant)
            session.flush()
            referrals.accept(session, sent, referrer, tenant=tenant)
            return sent

        followed = followed_by(ROLE_ORGS["referrer"][0], u["referrer"], "Hugo")
        followed_other = followed_by(OTHER_ORG[0], other_referrer, "Yves")

        # -- a case waiting for its documents list (documents requested, none listed yet) ----
        case_docs = cases.open_case(session, person("Gilles"), "mobility", "800",
                                    actor=u["secretary"], tenant=tenant)
        _transitions(session, case_docs, "ficp_pending", "documents_requested")
        case_docs.state = State.documents_requested
        session.flush()

        # -- a case the lender may not know of (never sent to the FICP check) ---------------
        case_intake = cases.open_case(session, person("Chloé"), "housing", "600",
                                      actor=u["secretary"], tenant=tenant)

        # -- a loan granted, signed, disbursed and repaying, with accompaniment -------------
        case_loan = cases.open_case(session, person("Denis", "denis@example.org"), "mobility",
                                    "3000", actor=u["secretary"], tenant=tenant)
        case_loan.social_worker_id = u["social_worker"].id
        _transitions(session, case_loan, "ficp_pending", "documents_requested", "evaluation",
                     "instruction", "submitted_to_lender")
        case_loan.state = State.submitted_to_lender
        session.flush()
        loan = loan_service.grant(session, case_loan, {
            "amount_granted": "3000", "months": "24", "annual_rate": "3.04",
            "method": "annuity"}, u["lender_agent"])
        loan.decided_on = loan_service.today() - timedelta(days=120)
        session.flush()
        signed = loan_service.today() - timedelta(days=100)
        loan_service.sign(session, case_loan, signature(signed), u["lender_agent"])
        loan_service.disburse(session, case_loan, {
            "disbursed_on": (loan_service.today() - timedelta(days=85)).isoformat()},
            u["lender_agent"])
        session.flush()
        accompaniment.record_follow_up(session, case_loan, u["social_worker"],
                                       accompaniment.FollowUpForm(
                                           done_on=clock.today().isoformat(), channel="phone",
                                           duration_minutes="20",
                                           shared_note=mark["followup_shared"],
                                           private_note=mark["followup_private"]), None)
        task = accompaniment.create_task(session, case_loan, "other", "Rappeler la personne.")

        # -- loans at each step the lender's forms act on -------------------------------------
        def granted_loan(first, decided_days_ago):
            case = cases.open_case(session, person(first), "mobility", "1500",
                                   actor=u["secretary"], tenant=tenant)
            case.social_worker_id = u["social_worker"].id
            _transitions(session, case, "ficp_pending", "documents_requested", "evaluation",
                         "instruction", "submitted_to_lender")
            case.state = State.submitted_to_lender
            session.flush()
            granted = loan_service.grant(session, case, {
                "amount_granted": "1500", "months": "12", "annual_rate": "3.04",
                "method": "annuity"}, u["lender_agent"])
            granted.decided_on = loan_service.today() - timedelta(days=decided_days_ago)
            session.flush()
            return granted

        loan_granted = granted_loan("Inès", 5)  # to sign
        loan_signed = granted_loan("Jules", 10)  # in its withdrawal period
        loan_service.sign(session, loan_signed.case,
                          signature(loan_service.today() - timedelta(days=2)), u["lender_agent"])
        loan_ready = granted_loan("Karim", 40)  # withdrawal period over: to disburse
        loan_service.sign(session, loan_ready.case,
                          signature(loan_service.today() - timedelta(days=30)),
                          u["lender_agent"])
        session.flush()

        def disbursed(first, days_ago):
            granted = granted_loan(first, days_ago + 30)
            loan_service.sign(session, granted.case, signature(
                loan_service.today() - timedelta(days=days_ago + 20)), u["lender_agent"])
            loan_service.disburse(session, granted.case, {
                "disbursed_on": (loan_service.today() - timedelta(days=days_ago)).isoformat()},
                u["lender_agent"])
            return granted

        from plugins.credit_municipal import guarantees, rescheduling

        loan_rescheduled = disbursed("Lina", 100)  # rescheduled once: its rider
        rescheduling.reschedule_loan(session, loan_rescheduled, {
            "holiday_months": "1", "months": "12", "opinion": "favourable"}, u["lender_agent"])
        loan_defaulted = disbursed("Marc", 200)  # in default: to write off
        guarantees.declare_default(session, loan_defaulted, u["lender_agent"],
                                   loan_service.today() - timedelta(days=10))
        loan_written_off = disbursed("Nora", 200)  # written off: recoveries
        guarantees.declare_default(session, loan_written_off, u["lender_agent"],
                                   loan_service.today() - timedelta(days=10))
        guarantees.write_off(session, loan_written_off, u["lender_agent"],
                             loan_service.today() - timedelta(days=5))
        session.flush()
        staff_time.record(session, u["secretary"], staff_time.TimeForm(
            day=clock.today().isoformat(), minutes="15", activity="phone_call",
            category="intake", note=""))
        session.flush()

        # -- a workshop session with an invitation ------------------------------------------
        theme = workshops.create_theme(session, u["social_worker"], "Gérer son budget")
        ws = workshops.create_session(session, u["social_worker"], workshops.SessionForm(
            theme_id=str(theme.id), day=(clock.today() + timedelta(days=20)).isoformat(),
            time="09:30", duration_minutes=90, place="Maison des solidarités", capacity=5),
            tenant)
        created, _skipped = workshops.invite(session, ws, [str(case_loan.id)],
                                             u["secretary"], tenant)
        # registered by phone (no e-mail address): the registration to cancel
        seated = workshops.register(session, ws, u["secretary"], case_id=str(case_eval.id))
        # a session that has started: attendance and evaluation
        past = workshops.create_session(session, u["social_worker"], workshops.SessionForm(
            theme_id=str(theme.id), day=(clock.today() + timedelta(days=21)).isoformat(),
            time="14:00", duration_minutes=90, place="Maison des solidarités", capacity=5),
            tenant)
        past_invited = [workshops.register(session, past, u["secretary"], case_id=str(c.id))
                        for c in (case_loan, case_eval)]
        past.starts_at = clock.now() - timedelta(days=1)
        session.flush()
        workshops.record_attendance(session, past, past_invited[1], True, u["social_worker"])
        session.flush()

        # -- an appointment that took place (its outcome is recorded afterwards) -------------
        held = appts.book(session, case_main, str(u["social_worker"].id), appts.Slot(
            day=(clock.today() + timedelta(days=11)).isoformat(), time="15:00",
            place="CCAS"), u["secretary"], tenant)
        held.starts_at = clock.now() - timedelta(days=1)
        session.flush()

        # -- a dead outbox message (the manager's failed deliveries) -------------------------
        message = outbox.enqueue_email(session, "partenaire@example.org", "Orientation",
                                       "Texte")
        message.status = OutboxStatus.dead
        message.attempts = 3
        session.flush()

        attachment_a = ref_a.attachments[0]
        attachment_b = ref_b.attachments[0]
        session.commit()

        if not plugin_enabled:
            # A tenant disables the lender only once no case waits in its own states.
            waiting = plugins.registry().states_of("credit_municipal")
            for case in session.scalars(select(Case).where(Case.state.in_(waiting))):
                case.state = "abandoned"
            plugins.set_enabled(session, "credit_municipal", False)
            session.commit()
            plugins.forget_enabled_cache()

    # -- an uploaded legacy file waiting for confirmation (imports) ---------------------------
    token = secrets.token_urlsafe(24)
    upload = import_dir / f"{tenant.id}-{token}.upload"
    upload.write_bytes(
        b"date_demande;nom;objet;montant_demande\n2019-02-12;Reprise;mobilite;1200\n"
        b"2019-02-30;Invalide;mobilite;abc\n")
    upload.with_suffix(".name").write_text("reprise.csv", encoding="utf-8")

    year = clock.now().year
    world.ids = {
        "tenant": slug, "case_id": str(case_main.id), "task_id": str(task.id),
        "appointment_id": str(appointment.id), "session_id": str(ws.id),
        "invitation_id": str(created[0].id), "doc_id": None, "suggestion_id": str(suggestion.id),
        "referral_id": str(ref_a.id), "attachment_id": str(attachment_a.id),
        "message_id": str(message.id), "loan_id": str(loan.id), "token": token,
        "ficp_case_id": str(case_ficp.id), "person_id": str(case_intake.person_id),
        "year": year, "fmt_name": "csv", "kind": "stale-version",
        "name": "credit_municipal", "slug": slug,
        # samples of the mutating endpoints (objects in the state their form acts on)
        "pending_referral_id": str(ref_pending.id), "loan_case_id": str(case_loan.id),
        "evaluation_case_id": str(case_eval.id), "eval_suggestion_id": str(eval_suggestion.id),
        "granted_loan_id": str(loan_granted.id), "signed_loan_id": str(loan_signed.id),
        "ready_loan_id": str(loan_ready.id), "loan_reference": loan.reference,
        "rescheduled_loan_id": str(loan_rescheduled.id),
        "defaulted_loan_id": str(loan_defaulted.id),
        "written_off_loan_id": str(loan_written_off.id), "rider_version": "2",
        "statement": "ville", "statement_format": "csv",
        "registered_invitation_id": str(seated.id), "past_session_id": str(past.id),
        "past_invitation_id": str(past_invited[0].id),
        "attended_invitation_id": str(past_invited[1].id), "theme_id": str(theme.id),
        "held_appointment_id": str(held.id), "invitable_case_id": str(case_main.id),
        "documents_case_id": str(case_docs.id),
        "file_id": str(main_file.id), "eval_file_id": str(eval_file.id),
        "member_id": str(member.id), "followed_referral_id": str(followed.id),
        # the manager's administration
        "org_id": str(u["referrer"].organisation_id), "user_id": str(u["secretary"].id),
        "token_id": str(world_token.id), "provider_id": str(world_provider.id),
    }
    with in_tenant(tenant):
        first_doc = documents.checklist(session, case_eval)[0]
        world.ids["doc_id"] = str(first_doc.id)
    world.other_org_ids = {"referral_id": str(ref_b.id), "attachment_id": str(attachment_b.id),
                           "followed_referral_id": str(followed_other.id),
                           "pending_referral_id": str(ref_b.id)}
    world.case_ids = {"main": str(case_main.id), "intake": str(case_intake.id),
                      "loan": str(case_loan.id), "ficp": str(case_ficp.id),
                      "evaluation": str(case_eval.id)}
    return world


def build_world(session, in_tenant, password_hash: str, import_dir: Path) -> dict:
    """``alpha`` (the lender plugin enabled) and ``beta`` (built with it, then disabled)."""
    return {
        "alpha": build_tenant(session, in_tenant, "alpha", password_hash, import_dir, True),
        "beta": build_tenant(session, in_tenant, "beta", password_hash, import_dir, False),
    }


# -- putting the world back after a check that changed it --------------------------------------


class WorldState:
    """The world as it stood before the first mutating check (every table's rows and the
    import folder), compared with the database after each check and put back when it
    differs, so that every check meets the same world.

    PostgreSQL: a superuser connection on the test database (row-level security does not
    apply to it) keeps a copy of each table in temporary tables, compares ``md5`` digests of
    the rows and, for the tables that changed, deletes and copies the rows back with
    foreign-key triggers off (``session_replication_role = replica``). SQLite: the same in
    an attached database, digests computed in Python, ``PRAGMA foreign_keys = OFF``.
    """

    FILES = "(import folder)"
    #: columns written by authentication on any request, allowed or refused: a token's
    #: last use (recorded at most every five minutes)
    BOOKKEEPING = {"api_tokens": {"last_used_at"}}
    #: tables written by any request, allowed or refused, and holding the signed-in
    #: clients of the matrix themselves: the server-side sessions (core.web.sessions)
    SESSIONS = {"web_sessions"}

    def __init__(self, database, import_dir: Path, copy_dir: Path):
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        from core.models import Base

        self.dialect = database.dialect
        self.import_dir, self.copy_dir = import_dir, copy_dir
        self.tables = [t.name for t in Base.metadata.sorted_tables
                       if t.name not in self.SESSIONS]
        self.columns = {t.name: [c.name for c in t.columns
                                 if c.name not in self.BOOKKEEPING.get(t.name, ())]
                        for t in Base.metadata.sorted_tables if t.name not in self.SESSIONS}
        if self.dialect == "postgresql":
            self.engine = create_engine(make_url(database.admin_url).set(database=database.name))
        else:
            self.engine = create_engine(database.owner_url, connect_args={"timeout": 30})
        self.conn = self.engine.connect()
        # the change counter is read outside any transaction, in one round trip
        self.probe = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.snapshot: dict[str, str] | None = None
        self._digested: tuple = (None, {})  # (version, table digests) last computed

    # -- digests ------------------------------------------------------------------------------

    def _list(self, table: str) -> str:
        return ", ".join(f'"{name}"' for name in self.columns[table])

    def _version(self):
        """Changes only when someone else committed (SQLite: ``PRAGMA data_version``) or
        began writing (PostgreSQL: the next transaction id, assigned to writers only):
        while it stays the same, the rows are those last digested."""
        from sqlalchemy import text

        query = ("SELECT pg_snapshot_xmax(pg_current_snapshot())"
                 if self.dialect == "postgresql" else "PRAGMA data_version")
        return self.probe.execute(text(query)).scalar()

    def _digest_tables(self) -> dict[str, str]:
        import hashlib

        from sqlalchemy import text

        if self.dialect == "postgresql":
            query = " UNION ALL ".join(
                f"SELECT '{t}', md5(coalesce(string_agg(x.r, '|' ORDER BY x.r), '')) FROM "
                f"(SELECT ROW({self._list(t)})::text AS r FROM public.{t}) AS x"
                for t in self.tables)
            out = dict(self.conn.execute(text(query)).all())
        else:
            out = {}
            for t in self.tables:
                rows = sorted(repr(tuple(r)) for r in self.conn.execute(text(
                    f"SELECT {self._list(t)} FROM main.{t}")))  # noqa: S608
                out[t] = hashlib.md5("|".join(rows).encode()).hexdigest()  # noqa: S324
        self.conn.rollback()
        return out

    def fingerprint(self) -> dict[str, str]:
        """``{table: digest of its rows}`` plus the import folder's files."""
        import hashlib

        version = self._version()
        if version != self._digested[0]:
            self._digested = (version, self._digest_tables())
        out = dict(self._digested[1])
        files = sorted((p.name, hashlib.md5(p.read_bytes()).hexdigest())  # noqa: S324
                       for p in self.import_dir.iterdir())
        out[self.FILES] = repr(files)
        return out

    # -- snapshot and restore -----------------------------------------------------------------

    def take(self) -> None:
        import shutil

        from sqlalchemy import text

        if self.dialect == "postgresql":
            for t in self.tables:
                self.conn.execute(text(f"DROP TABLE IF EXISTS pg_temp.authz_{t}"))
                self.conn.execute(text(
                    f"CREATE TEMPORARY TABLE authz_{t} AS SELECT * FROM public.{t}"))
        else:
            path = self.copy_dir / "world.sqlite3"
            path.unlink(missing_ok=True)
            self.conn.execute(text("ATTACH DATABASE :path AS authz"), {"path": str(path)})
            for t in self.tables:
                self.conn.execute(text(f"CREATE TABLE authz.{t} AS SELECT * FROM main.{t}"))
        self.conn.commit()
        files = self.copy_dir / "imports"
        shutil.rmtree(files, ignore_errors=True)
        shutil.copytree(self.import_dir, files)
        self.snapshot = self.fingerprint()

    def ensure(self) -> dict[str, str]:
        """Take the snapshot on first use, else put back anything changed since (by a test
        outside the matrix); returns the current fingerprint."""
        if self.snapshot is None:
            self.take()
            return self.snapshot
        current = self.fingerprint()
        if self.changed(current):
            self.restore(current)
            return self.snapshot
        return current

    def changed(self, current: dict[str, str]) -> list[str]:
        return [name for name, digest in current.items() if self.snapshot[name] != digest]

    def restore(self, current: dict[str, str] | None = None) -> list[str]:
        """Put back what differs from the snapshot; returns the names put back."""
        import shutil

        from sqlalchemy import text

        from core import plugins

        if self.snapshot is None:
            return []
        changed = self.changed(current if current is not None else self.fingerprint())
        tables = [t for t in changed if t != self.FILES]
        if tables:
            if self.dialect == "postgresql":
                self.conn.execute(text("SET LOCAL session_replication_role = replica"))
                for t in tables:
                    self.conn.execute(text(f"DELETE FROM public.{t}"))  # noqa: S608
                    self.conn.execute(text(f"INSERT INTO public.{t} SELECT * FROM authz_{t}"))
                self.conn.commit()
            else:
                self.conn.execute(text("PRAGMA foreign_keys = OFF"))
                self.conn.commit()
                for t in tables:
                    self.conn.execute(text(f"DELETE FROM main.{t}"))  # noqa: S608
                    self.conn.execute(text(f"INSERT INTO main.{t} SELECT * FROM authz.{t}"))
                self.conn.commit()
                self.conn.execute(text("PRAGMA foreign_keys = ON"))
                self.conn.commit()
            self._digested = (self._version(),
                              {t: d for t, d in self.snapshot.items() if t != self.FILES})
        if self.FILES in changed:
            for path in self.import_dir.iterdir():
                path.unlink()
            for path in (self.copy_dir / "imports").iterdir():
                shutil.copy2(path, self.import_dir / path.name)
        if changed:
            # what the application keeps in memory about the database
            plugins.forget_enabled_cache()
            from flask import current_app

            current_app.extensions["ccas_limiter"].reset()
        return changed

    def close(self) -> None:
        self.probe.close()
        self.conn.close()
        self.engine.dispose()
