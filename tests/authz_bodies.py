"""Valid bodies for the mutating endpoints of the authorization matrix
(tests/test_authz_matrix.py), built from the world's objects (tests/authz_world.py).

``BODIES`` maps each endpoint that takes a POST (PUT, PATCH, DELETE) to a :class:`Body`:
what a browser or an API client sends for the request to succeed, the statuses of that
success, and whether it writes. With it the matrix proves that the roles the policy allows
get their success (and the change is made), and that the roles and scopes it refuses get
403/404 with nothing written. A mutating endpoint without an entry fails the matrix.

Forms: the test application runs without CSRF checks (as every test does); when the check
is expected to succeed, the hidden fields of the form that posts to the URL (one-time form
tokens, CSRF token, version) are read from the page that shows it (``page``) with the same
session, as a browser would. Refused checks send the same fields without the session-bound
tokens.
"""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser

from core import clock
from core.testing.pytest_plugin import TEST_PASSWORD

NEW_PASSWORD = "Autre-mot-de-passe-2026!"  # noqa: S105 - test fixture
OPERATOR_EMAIL = "operator@platform.test"


@dataclass
class Ctx:
    """What a body factory may use: the world, the check and the client it runs with."""

    world: dict          # slug -> TenantWorld
    role: str
    values: dict         # the URL variables of the check
    own_slug: str        # the tenant of the client (its user)
    url_slug: str        # the tenant whose objects the URL names
    client: object       # the client the request goes out with (a copy of the role's)
    state: dict = field(default_factory=dict)  # what ``prepare`` leaves for ``make``
    #: undone after the check, whatever its outcome (settings ``prepare`` changed)
    cleanups: list = field(default_factory=list)

    @property
    def own(self):
        return self.world[self.own_slug]

    @property
    def ids(self) -> dict:
        return self.own.ids

    @property
    def user(self):
        """The role's user (roles without a tenant account: the manager's, so that the
        body is still a valid one)."""
        return self.own.users.get(self.role) or self.own.users["manager"]

    def today(self) -> date:
        from core.cases import local_today

        return local_today(self.own.tenant)

    def day(self, days: int = 0) -> str:
        return (self.today() + timedelta(days=days)).isoformat()

    @contextmanager
    def operator_session(self):
        """A session of its own outside any tenant (operators' tables), committed."""
        from core.db import db

        session = db.new_session()
        try:
            yield session
            session.commit()
        finally:
            session.close()

    def operator(self, session):
        from sqlalchemy import select

        from core.models import Operator

        return session.scalar(select(Operator).where(Operator.email == OPERATOR_EMAIL))

    @contextmanager
    def session(self, which: str = "url"):
        """A session of its own, committed, in the tenant the URL names (``"url"``) or in
        the client's (``"own"``)."""
        from flask import g

        from core import tenancy
        from core.db import db

        tenant = self.world[self.own_slug if which == "own" else self.url_slug].tenant
        previous = g.get("tenant")
        with tenancy.tenant_scope(tenant.id):
            g.tenant = tenant
            session = db.new_session()
            try:
                yield session
                session.commit()
            finally:
                session.close()
                g.tenant = previous

    def _get(self, session, model, name: str):
        key = (self.world[self.url_slug].tenant.id, uuid.UUID(str(self.values[name])))
        return session.get(model, key)

    def case_version(self, name: str = "case_id") -> int:
        from core.models import Case

        with self.session() as s:
            return self._get(s, Case, name).version

    def loan_case_version(self) -> int:
        from plugins.credit_municipal.models import Loan

        with self.session() as s:
            return self._get(s, Loan, "loan_id").case.version


@dataclass(frozen=True)
class Body:
    #: the form fields (pages) or the JSON document (API); reads only, never writes
    make: Callable[[Ctx], dict]
    #: statuses of a success
    success: tuple[int, ...] = (302,)
    #: a success changes the database (or the import folder)
    writes: bool = True
    #: endpoint of the page whose form posts here ("self": the same URL), for hidden fields
    page: str | None = None
    #: state the success needs, set up before the request; may return URL variables
    prepare: Callable[[Ctx], dict | None] | None = None
    #: where a successful redirect goes ("{slug}" is the tenant); default: not a sign-in page
    location: str | None = None
    #: a further check of the effect, returning a problem (str) or None
    then: Callable[[Ctx], str | None] | None = None
    #: an API body sent as multipart/form-data (a file upload) rather than JSON
    multipart: bool = False


# -- helpers ------------------------------------------------------------------------------------


def _linked_secretary(ctx: Ctx) -> None:
    """The secretary signed in once through the world's provider (a link to remove)."""
    from sqlalchemy import select

    from core.models import IdentityLink, IdentityProvider

    with ctx.session("own") as s:
        provider = s.scalar(select(IdentityProvider).where(IdentityProvider.name == "Annuaire"))
        s.add(IdentityLink(provider_id=provider.id, user_id=ctx.own.users["secretary"].id,
                           subject="sub-secretaire"))


def _account_of_role(ctx, which: str = "own") -> tuple[str, str]:
    """The role's user's session account and Flask-Login id, in the client's tenant
    (``"own"``) or the tenant whose objects the URL names (``"url"``)."""
    from core.models import User

    side = ctx.own if which == "own" else ctx.world[ctx.url_slug]
    wanted = side.users.get(ctx.role) or side.users["manager"]
    with ctx.session(which) as s:
        user = s.get(User, (side.tenant.id, wanted.id))
        return f"u:{user.tenant_id}:{user.id}", user.get_id()


def _another_session(ctx) -> dict:
    """A second session of the role's user, for "Fermer cette session" (of the other
    tenant's user in the scopes naming the other tenant's objects: a 404)."""
    import secrets

    from flask import current_app

    from core.web import sessions

    _account, user_id = _account_of_role(ctx, "url")
    sid, now = secrets.token_urlsafe(32), clock.now()
    store = sessions.store(current_app)
    store.save(sessions.digest(sid), None, {"_user_id": user_id}, now,
               now + timedelta(hours=1), "", "")
    return {"session_id": store.load(sessions.digest(sid), now).id}


def _operator_ids(ctx) -> tuple[str, str]:
    """The world's operator's session account and Flask-Login id."""
    from sqlalchemy import select

    from core.models import Operator

    with ctx.session("own") as s:
        operator = s.scalar(select(Operator).where(Operator.email == OPERATOR_EMAIL))
        return f"o:{operator.id}", operator.get_id()


def _another_operator_session(ctx) -> dict:
    """A second session of the operator, for the operator's "Fermer cette session"."""
    import secrets

    from flask import current_app

    from core.web import sessions

    _account, operator_id = _operator_ids(ctx)
    sid, now = secrets.token_urlsafe(32), clock.now()
    store = sessions.store(current_app)
    store.save(sessions.digest(sid), None, {"_user_id": operator_id}, now,
               now + timedelta(hours=1), "", "")
    ctx.state["ended"] = store.load(sessions.digest(sid), now).id
    return {"session_id": ctx.state["ended"]}


def _operator_session_ended(ctx) -> str | None:
    """The operator's events go to the log, not a tenant's tables: check the session is
    gone from the store."""
    from flask import current_app

    from core.web import sessions

    account, _operator_id = _operator_ids(ctx)
    alive = {row.id for row in sessions.store(current_app).of_account(account, clock.now())}
    return f"session {ctx.state['ended']} still open" if ctx.state["ended"] in alive else None


def _keep_operator_sessions(ctx) -> None:
    _keep_rows(ctx, _operator_ids(ctx)[0])


def _keep_sessions(ctx) -> None:
    """"Fermer toutes les autres sessions" would end the matrix's own signed-in clients:
    keep the rows to put them back afterwards (``_put_sessions_back``)."""
    _keep_rows(ctx, _account_of_role(ctx)[0])


def _keep_rows(ctx, account: str) -> None:
    from sqlalchemy import select

    from core.db import db
    from core.models import WebSession

    with db.new_session() as s:
        ctx.state["sessions"] = [
            {c.name: getattr(row, c.name) for c in WebSession.__table__.columns}
            for row in s.scalars(select(WebSession).where(WebSession.account == account))]


def _put_sessions_back(ctx) -> str | None:
    from sqlalchemy import select

    from core.db import db
    from core.models import WebSession

    with db.new_session() as s:
        present = set(s.scalars(select(WebSession.id)))
        for row in ctx.state.get("sessions", []):
            if row["id"] not in present:
                s.add(WebSession(**row))
        s.commit()
    return None


def totp_code(secret: str, at: float | None = None) -> str:
    from core.accounts import totp

    return totp.totp(totp.secret_bytes(secret), clock.timestamp() if at is None else at)


def _user_in(session, ctx: Ctx, user):
    from core.models import User

    return session.get(User, (ctx.own.tenant.id, user.id))


def pending_secret(ctx: Ctx, user=None) -> str:
    from core.accounts import totp

    with ctx.session("own") as s:
        return totp.pending_secret(s, _user_in(s, ctx, user or ctx.user))


def _confirm(session, account) -> str:
    """Confirm ``account``'s second factor with the code of two steps ago (the current
    code stays unused); returns its secret."""
    from core.accounts import totp

    secret = totp.pending_secret(session, account)
    at = clock.timestamp() - 2 * totp.STEP_SECONDS
    totp.confirm_enrolment(session, account, totp_code(secret, at), at=at)
    return secret


def operator_pending_secret(ctx: Ctx) -> str:
    from core.accounts import totp

    with ctx.operator_session() as s:
        return totp.pending_secret(s, ctx.operator(s))


def enable_operator_totp(ctx: Ctx) -> str:
    with ctx.operator_session() as s:
        return _confirm(s, ctx.operator(s))


def _operator_code_ready(ctx: Ctx) -> None:
    """An operator with a second factor has given the right password."""
    ctx.state["secret"] = enable_operator_totp(ctx)
    response = ctx.client.post("/operator/login", data={"email": OPERATOR_EMAIL,
                                                       "password": TEST_PASSWORD})
    assert response.headers["Location"].endswith("/operator/login/code"), response.status_code


def _operator_enrolment_ready(ctx: Ctx) -> None:
    """The platform requires a second factor of its operators; an operator without one
    has given the right password and opened the enrolment page."""
    from flask import current_app

    from core.accounts import totp

    config = current_app.config
    previous = config.get("CCAS_OPERATOR_TOTP_REQUIRED")
    config["CCAS_OPERATOR_TOTP_REQUIRED"] = True
    ctx.cleanups.append(lambda: config.__setitem__("CCAS_OPERATOR_TOTP_REQUIRED", previous))
    response = ctx.client.post("/operator/login", data={"email": OPERATOR_EMAIL,
                                                       "password": TEST_PASSWORD})
    assert response.headers["Location"].endswith("/operator/login/enrolment"), (
        response.status_code)
    assert ctx.client.get("/operator/login/enrolment").status_code == 200
    with ctx.operator_session() as s:
        ctx.state["secret"] = totp.credential(s, ctx.operator(s)).secret


def enable_totp(ctx: Ctx, user=None) -> str:
    """Give ``user`` a confirmed second factor; returns its secret."""
    with ctx.session("own") as s:
        return _confirm(s, _user_in(s, ctx, user or ctx.user))


def signed_out(ctx: Ctx) -> str | None:
    response = ctx.client.get(f"/t/{ctx.own.slug}/")
    if response.status_code == 302 and "/login" in response.headers.get("Location", ""):
        return None
    return f"still signed in after signing out ({response.status_code})"


def operator_signed_out(ctx: Ctx) -> str | None:
    response = ctx.client.get("/operator/")
    if response.status_code == 302 and "/operator/login" in response.headers.get("Location", ""):
        return None
    return f"the operator is still signed in ({response.status_code})"


def operator_signed_in(ctx: Ctx) -> str | None:
    response = ctx.client.get("/operator/")
    return None if response.status_code == 200 else (
        f"the operator is not signed in ({response.status_code})")


def _sign_in(ctx: Ctx, user) -> str:
    response = ctx.client.post(f"/t/{ctx.own.slug}/login",
                               data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.status_code
    return response.headers["Location"]


def _login_code_ready(ctx: Ctx) -> None:
    """A staff member with a second factor has given the right password."""
    user = ctx.own.users["secretary"]
    ctx.state["secret"] = enable_totp(ctx, user)
    assert _sign_in(ctx, user).endswith("/login/code")


def _login_enrolment_ready(ctx: Ctx) -> None:
    """The tenant requires a second factor for its staff; a staff member without one has
    given the right password and opened the enrolment page."""
    from core.models import Tenant

    with ctx.session("own") as s:
        tenant = s.get(Tenant, ctx.own.tenant.id)
        tenant.settings = {**(tenant.settings or {}),
                           "security": {"require_totp_for_staff": True}}
    user = ctx.own.users["secretary"]
    assert _sign_in(ctx, user).endswith("/login/enrolment")
    assert ctx.client.get(f"/t/{ctx.own.slug}/login/enrolment").status_code == 200
    with ctx.session("own") as s:
        from core.accounts import totp

        ctx.state["secret"] = totp.credential(s, _user_in(s, ctx, user)).secret


def _reset_link(ctx: Ctx) -> dict:
    """A password-reset link sent to the secretary an instant ago."""
    import secrets

    from core.accounts.password_reset import TOKEN_LIFETIME, token_digest
    from core.models import PasswordResetToken

    clear = secrets.token_urlsafe(32)
    now = clock.now()
    with ctx.session("own") as s:
        s.add(PasswordResetToken(user_id=ctx.own.users["secretary"].id,
                                 token_hash=token_digest(clear), created_at=now,
                                 expires_at=now + TOKEN_LIFETIME))
    return {"token": clear}


def _transition(ctx: Ctx) -> dict:
    """A move the role may make on the submitted file: the lender adjourns it, the CCAS
    staff record an abandonment."""
    version = ctx.case_version()
    if ctx.role == "lender_agent":
        return {"to": "adjourned", "version": version,
                "reason_text": "Avis d'imposition manquant."}
    return {"to": "abandoned", "version": version, "reason": "no_response",
            "reason_text": ""}


def _person(ctx: Ctx, first: str) -> dict:
    return {"first_name": first, "last_name": ctx.own.markers["person"],
            "birth_date": "1991-04-02", "phone": "0611223344"}


def _budget(_ctx: Ctx) -> dict:
    from core.models import CHARGE_CATEGORIES, RESOURCE_CATEGORIES

    values = dict.fromkeys([*RESOURCE_CATEGORIES, *CHARGE_CATEGORIES], "")
    values.update({"salary": "1250", "rent": "480"})
    return values


def _slot(prefix: str, ctx: Ctx, days: int, at: str) -> dict:
    return {f"{prefix}worker": str(ctx.own.users["social_worker"].id),
            f"{prefix}date": ctx.day(days), f"{prefix}time": at, f"{prefix}duration": "60",
            f"{prefix}mode": "in_person", f"{prefix}place": "CCAS", f"{prefix}kind": "intake"}


def _plugin_settings(_ctx: Ctx) -> dict:
    return {"annual_rate": "3,04", "amount_min": "300,00", "amount_max": "3 000,00",
            "max_months": "36", "schedule_method": "annuity", "interest_paid_by_city": "100",
            "city_guarantee": "15", "fcs_guarantee": "50", "default_after_days": "90",
            "allowed_purposes": ["mobility", "housing", "household_equipment", "health",
                                 "training", "employment", "debts", "other"],
            "contact_email": "microcredit@credit-municipal.example.org"}


def _legacy_file(_ctx: Ctx) -> dict:
    content = (b"date_demande;nom;objet;montant_demande\n"
               b"2018-05-03;Historique;logement;900\n")
    return {"fichier": (io.BytesIO(content), "historique.csv")}


def _repayments_file(ctx: Ctx) -> dict:
    content = f"reference;date;montant\n{ctx.ids['loan_reference']};{ctx.day()};50,00\n"
    return {"content": base64.b64encode(content.encode()).decode(),
            "filename": "remboursements.csv", "confirm": "1"}


def _intake(ctx: Ctx) -> dict:
    return {**_person(ctx, "Marius"), "email": "", "address": "",
            "postal_code": "", "city": "", "adults": "1", "children_ages": "",
            "employment": "", "monthly_resources": "", "purpose": "mobility",
            "amount_requested": "1200", "project": "Réparer la voiture.", "source": "phone",
            "referring_organisation_id": "", "person_choice": "new", "action": ""}


def _referral_form(ctx: Ctx) -> dict:
    return {**_person(ctx, "Hélène"), "purpose": "mobility", "amount_requested": "900",
            "consent": "on", "email": "", "note": "Orientée par l'accueil."}


def _rectified(ctx: Ctx) -> dict:
    return {"first_name": "Chloé", "last_name": ctx.own.markers["person"],
            "birth_date": "1988-03-14", "phone": "0611111111", "email": "",
            "address": "3 rue des Lilas", "postal_code": "31000", "city": "Toulouse"}


def _referral_rectified(ctx: Ctx) -> dict:
    """The person's fields of a referral without case (the waiting one), a new phone."""
    return {"last_name": ctx.own.markers["person"], "first_name": "Gaston",
            "birth_date": "1990-01-02", "phone": "0611111111", "email": "gaston@example.org",
            "note": "Besoin d'un véhicule."}


def _signature(ctx: Ctx) -> dict:
    today = ctx.day()
    return {"borrower_signed_on": today, "lender_signed_on": today, "ccas_signed_on": today,
            "lender_signatory": "Paul Prêteur", "ccas_signatory": "Claire CCAS",
            "version": ctx.loan_case_version()}


# -- the table ------------------------------------------------------------------------------------

BODIES: dict[str, Body] = {
    # API (JSON)
    "api.create_case": Body(lambda c: {
        "person": _person(c, "Lucie"), "purpose": "mobility", "amount_requested": "1000.00",
        "new_person": True}, success=(201,)),
    "api.transition_case": Body(_transition, success=(200,)),
    "api.create_referral": Body(lambda c: {
        "person": _person(c, "Hélène"), "purpose": "mobility", "amount_requested": "900",
        "consent": True, "note": "Orientée par l'accueil."}, success=(201,)),
    "api.decide_referral": Body(lambda c: {"decision": "accept"}, success=(200,)),
    # the applicant's file (API)
    "api.attach_document": Body(lambda c: {
        "kind": "identity", "file": (io.BytesIO(b"%PDF-1.4\n%piece\n"), "piece.pdf")},
        success=(201,), multipart=True),
    "api.remove_document": Body(lambda c: {}, success=(204,)),
    "api.add_household_member": Body(lambda c: {
        "first_name": "Nina", "birth_date": "2015-04-01", "relationship": "child"},
        success=(201,)),
    "api.update_household_member": Body(lambda c: {"first_name": "Louise"},
                                        success=(200,)),
    "api.remove_household_member": Body(lambda c: {}, success=(204,)),
    "api.set_co_borrower": Body(lambda c: {"member_id": c.ids["member_id"]},
                                success=(200,)),
    "api.write_synthesis": Body(lambda c: {"request": "Achat d'une voiture.",
                                           "prospects": "CDI en vue."}, success=(201,)),
    # cases
    "cases.intake": Body(_intake, page="self"),
    "cases.transition": Body(_transition, page="cases.case_page"),
    "cases.assign": Body(lambda c: {"worker": str(c.own.users["manager"].id),
                                    "version": c.case_version()}, page="cases.case_page"),
    "cases.interview_new": Body(lambda c: {
        "held_on": c.day(), "duration_minutes": "30", "shared_note": "Deuxième entretien.",
        "private_note": ""}, page="self"),
    "cases.budget": Body(_budget, page="self"),
    "documents.create": Body(lambda c: {}, page="documents.page"),
    "documents.mark": Body(lambda c: {"status": "received", "note": ""},
                           page="documents.page"),
    "documents.add": Body(lambda c: {"label": "Justificatif de domicile récent"},
                          page="documents.page"),
    "documents.email": Body(lambda c: {}, page="documents.page"),
    "documents.attach": Body(lambda c: {
        "kind": "identity", "file": (io.BytesIO(b"%PDF-1.4\n%piece\n"), "piece.pdf"),
        "issued_on": "", "expires_on": ""}, page="documents.page"),
    "documents.remove_file": Body(lambda c: {}, page="documents.page"),
    "household.add": Body(lambda c: {"first_name": "Nina", "last_name": "",
                                     "birth_date": "2015-04-01", "relationship": "child"},
                          page="household.page"),
    "household.remove": Body(lambda c: {}, page="household.page"),
    "household.edit": Body(lambda c: {"first_name": "Nina", "last_name": "",
                                      "birth_date": "2012-05-04", "relationship": "child"},
                           page="self"),
    "household.co_borrower": Body(lambda c: {"co_borrower": c.ids["member_id"]},
                                  page="household.page"),
    "synthesis.edit": Body(lambda c: {"request": "Achat d'une voiture.", "project": "",
                                      "resources": "", "prospects": ""}, page="self"),
    "notice.given": Body(lambda c: {"notice_given_on": c.day()}, page="cases.case_page"),
    "suggestions.refresh": Body(lambda c: {}, page="suggestions.page"),
    "suggestions.resolve": Body(lambda c: {"status": "requested", "reason": ""},
                                page="suggestions.page"),
    "suggestions.override": Body(lambda c: {
        "override_reason": "Aide déjà refusée par la CAF le mois dernier."},
        page="suggestions.page"),
    "appointments.book": Body(lambda c: _slot("rdv-", c, 15, "09:00"), page="self"),
    "appointments.move": Body(lambda c: _slot("move-", c, 16, "11:00"),
                              page="appointments.show"),
    "appointments.outcome": Body(lambda c: {"status": "held", "note": ""},
                                 page="appointments.show"),
    # accompaniment and workshops
    "accompaniment.record": Body(lambda c: {
        "done_on": c.day(), "channel": "phone", "duration_minutes": "20",
        "shared_note": "Point d'étape.", "private_note": ""}, page="accompaniment.case_page"),
    "accompaniment.report_change": Body(lambda c: {"change": "moving", "description": ""},
                                        page="accompaniment.case_page"),
    "accompaniment.close_task": Body(lambda c: {"outcome": "Personne rappelée."}),
    "workshops.create_theme": Body(lambda c: {"title": "Ouvrir un compte bancaire",
                                              "description": ""}, page="workshops.index"),
    "workshops.create_session": Body(lambda c: {
        "theme_id": c.ids["theme_id"], "day": c.day(30), "time": "10:00",
        "duration_minutes": "90", "place": "CCAS", "capacity": "6"}, page="workshops.index"),
    "workshops.invite": Body(lambda c: {"case_ids": [c.ids["invitable_case_id"]]},
                             page="workshops.session_page"),
    "workshops.register": Body(lambda c: {"invitation_id": c.ids["invitation_id"]},
                               page="workshops.session_page"),
    "workshops.cancel": Body(lambda c: {}, page="workshops.session_page"),
    "workshops.attendance": Body(lambda c: {"attended": "1"}, page="workshops.session_page"),
    "workshops.evaluate": Body(lambda c: {"score": "4", "comment": "Utile."},
                               page="workshops.session_page"),
    "staff_time.record": Body(lambda c: {
        "day": c.day(), "minutes": "30", "activity": "phone_call", "category": "intake",
        "note": ""}, page="staff_time.index"),
    # referrals
    "referrals.new": Body(_referral_form, page="self"),
    "referrals.accept": Body(lambda c: {}, page="referrals.detail"),
    "referrals.decline": Body(lambda c: {"reason": "out_of_territory", "message": ""},
                              page="referrals.detail"),
    "referrals.requeue": Body(lambda c: {}, page="referrals.dead_letters"),
    "referrals.start": Body(lambda c: {}, page="referrals.detail"),
    "referrals.outcome": Body(lambda c: {"outcome": "aid_granted", "outcome_message": ""},
                              page="referrals.detail"),
    "api.follow_up_referral": Body(lambda c: {"status": "done", "outcome": "aid_granted"},
                                   success=(200,)),
    # the lender (credit_municipal plugin)
    "credit_municipal.ficp_record": Body(lambda c: {
        "result": "clear", "checked_on": c.day(), "version": c.case_version()},
        page="credit_municipal.ficp_queue"),
    "credit_municipal.loan_decision": Body(lambda c: {
        "action": "adjourn", "missing": "Avis d'imposition.", "version": c.case_version()},
        page="self"),
    "credit_municipal.loan_sign": Body(_signature, page="credit_municipal.loan_detail"),
    "credit_municipal.loan_withdraw": Body(lambda c: {"version": c.loan_case_version()},
                                           page="credit_municipal.loan_detail"),
    "credit_municipal.loan_disburse": Body(lambda c: {
        "disbursed_on": c.day(), "version": c.loan_case_version()},
        page="credit_municipal.loan_detail"),
    "credit_municipal.loan_repayment": Body(lambda c: {"paid_on": c.day(), "amount": "50,00"},
                                            page="credit_municipal.loan_detail"),
    "credit_municipal.loan_default": Body(lambda c: {"declared_on": c.day()},
                                          page="credit_municipal.loan_detail"),
    "credit_municipal.loan_import": Body(_repayments_file),
    "credit_municipal.loan_reschedule": Body(lambda c: {
        "holiday_months": "1", "months": "12", "opinion": "favourable"},
        page="credit_municipal.loan_detail"),
    "credit_municipal.loan_write_off": Body(lambda c: {"written_off_on": c.day()},
                                            page="credit_municipal.loan_detail"),
    "credit_municipal.loan_recovery": Body(lambda c: {"received_on": c.day(),
                                                      "recovery_amount": "100,00"},
                                           page="credit_municipal.loan_detail"),
    # the manager's administration
    "web.plugin_settings": Body(_plugin_settings, page="self"),
    "admin.organisations": Body(lambda c: {"name": "Nouvelle association",
                                           "kind": "association", "plugin": "", "email": ""},
                                page="self"),
    "admin.organisation_edit": Body(lambda c: {"name": "Association renommée",
                                               "kind": "association", "plugin": "",
                                               "email": "contact@association.example"},
                                    page="self"),
    "admin.users": Body(lambda c: {"email": "invitation@world.test", "full_name": "Invitée",
                                   "role": "secretary", "org": f"CCAS de {c.own.tenant.city}"},
                        page="self"),
    "admin.user_edit": Body(lambda c: {"full_name": "Secrétaire renommée", "role": "secretary",
                                       "org": f"CCAS de {c.own.tenant.city}"}, page="self"),
    "admin.user_action": Body(lambda c: {"action": "send_link"}, page="admin.user_edit"),
    "admin.tokens": Body(lambda c: {"user": str(c.own.users["referrer"].id),
                                    "name": "Nouveau logiciel", "expires_days": "30"},
                         success=(201,), page="self"),
    "admin.token_revoke": Body(lambda c: {}, page="admin.tokens"),
    "admin.sharing": Body(lambda c: {"comparison": "on"}, page="self"),
    "identity.admin": Body(lambda c: {"password_sign_in": "on"}, page="self"),
    "identity.provider_form": Body(lambda c: {
        "name": "Autre annuaire", "issuer": "https://sso.example.org/realms/agents",
        "client_id": "ccas", "client_secret": "un-secret", "domains": "example.org",
        "scopes": "openid email", "organisation": "", "active": "on"}, page="self"),
    "identity.provider_delete": Body(lambda c: {}, page="identity.admin"),
    "identity.unlink": Body(lambda c: {"provider": "Annuaire",
                                       "email": c.own.users["secretary"].email},
                            prepare=_linked_secretary, page="identity.admin"),
    "privacy.rectify": Body(_rectified, page="privacy.person_page"),
    "privacy.erase": Body(lambda c: {"confirm": "yes"}, page="privacy.person_page"),
    "privacy.referral_rectify": Body(_referral_rectified, page="privacy.referral_page"),
    "privacy.referral_erase": Body(lambda c: {"confirm": "yes"},
                                   page="privacy.referral_page"),
    "imports.upload": Body(_legacy_file, success=(200,)),
    "imports.confirm": Body(lambda c: {"ignorer_invalides": "oui"}, success=(200,)),
    # one's own account
    "account.totp_enrol": Body(lambda c: {"code": totp_code(c.state["secret"])},
                               prepare=lambda c: c.state.update(secret=pending_secret(c)),
                               success=(200,), page="self"),
    "account.totp_disable": Body(lambda c: {"code": totp_code(c.state["secret"])},
                                 prepare=lambda c: c.state.update(secret=enable_totp(c)),
                                 location="/t/{slug}/account/security",
                                 page="account.security"),
    # signing in and out (public)
    "web.login": Body(lambda c: {"email": c.own.users["secretary"].email,
                                 "password": TEST_PASSWORD}, location="/t/{slug}/"),
    "web.logout": Body(lambda c: {}, writes=False, location="/t/{slug}/login",
                       then=signed_out),
    "account.login_code": Body(lambda c: {"code": totp_code(c.state["secret"])},
                               prepare=_login_code_ready, location="/t/{slug}/"),
    "account.login_enrol": Body(lambda c: {"code": totp_code(c.state["secret"])},
                                success=(200,), prepare=_login_enrolment_ready),
    "account.password_forgot": Body(lambda c: {"email": c.own.users["secretary"].email},
                                    success=(200,)),
    "account.password_reset": Body(lambda c: {"password": NEW_PASSWORD,
                                              "confirmation": NEW_PASSWORD},
                                   prepare=_reset_link, location="/t/{slug}/login"),
    # searches by name travel by POST (issue 18); one's sessions
    "cases.case_list": Body(lambda c: {"q": "ma"}, success=(200,), page="self"),
    "privacy.search": Body(lambda c: {"q": "ma"}, success=(200,), page="self"),
    "account.end_one_session": Body(lambda c: {}, prepare=_another_session,
                                    location="/t/{slug}/account/sessions",
                                    page="account.sessions_page"),
    "account.end_other_sessions": Body(lambda c: {}, prepare=_keep_sessions,
                                       then=_put_sessions_back,
                                       location="/t/{slug}/account/sessions",
                                       page="account.sessions_page"),
    # the platform operator
    "operator.login": Body(lambda c: {"email": OPERATOR_EMAIL,
                                      "password": TEST_PASSWORD}, location="/operator/",
                           writes=False, then=operator_signed_in),
    "operator.logout": Body(lambda c: {}, writes=False, location="/operator/login",
                            then=operator_signed_out),
    "operator.login_code": Body(lambda c: {"code": totp_code(c.state["secret"])},
                                prepare=_operator_code_ready, location="/operator/",
                                then=operator_signed_in),
    "operator.login_enrol": Body(lambda c: {"code": totp_code(c.state["secret"])},
                                 success=(200,), prepare=_operator_enrolment_ready,
                                 then=operator_signed_in),
    "operator.totp_enrol": Body(lambda c: {"code": totp_code(c.state["secret"])},
                                prepare=lambda c: c.state.update(
                                    secret=operator_pending_secret(c)),
                                success=(200,), page="self"),
    "operator.totp_disable": Body(lambda c: {"code": totp_code(c.state["secret"])},
                                  prepare=lambda c: c.state.update(
                                      secret=enable_operator_totp(c)),
                                  location="/operator/account/security",
                                  page="operator.security"),
    "operator.tenants": Body(lambda c: {"slug": "gamma", "name": "CCAS Gamma",
                                        "city": "Gamma", "timezone": "Europe/Paris"}),
    # (the lender cannot be disabled while the world's cases wait for its check)
    "operator.tenant_detail": Body(lambda c: {"plugin": "adie", "action": "enable"}),
    "operator.tenant_status": Body(lambda c: {"action": "suspend"},
                                   page="operator.tenant_detail"),
    "operator.end_one_session": Body(lambda c: {}, prepare=_another_operator_session,
                                     writes=False, then=_operator_session_ended,
                                     location="/operator/account/sessions",
                                     page="operator.sessions_page"),
    "operator.end_other_sessions": Body(lambda c: {}, prepare=_keep_operator_sessions,
                                        writes=False, then=_put_sessions_back,
                                        location="/operator/account/sessions",
                                        page="operator.sessions_page"),
}


# -- hidden fields of a form, as a browser sends them --------------------------------------------


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict]] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {}
            self.forms.append((attrs.get("action") or "", self._current))
        elif tag == "input" and self._current is not None and (
                attrs.get("type") or "").lower() == "hidden" and attrs.get("name"):
            self._current[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def hidden_fields(html: str, page_path: str, action_path: str) -> dict:
    """The hidden inputs of the form(s) of ``html`` posting to ``action_path``."""
    parser = _Forms()
    parser.feed(html)
    out: dict = {}
    for action, fields_ in parser.forms:
        target = (action or page_path).split("?")[0].split("#")[0]
        if target == action_path:
            out.update(fields_)
    return out
