"""RGPD retention: the registry covers every column, the purge leaves no personal value of
a purged person in any table (scanned generically, as the owner, past RLS), keeps a recent
person and anyone with an open loan, keeps the yearly review's figures, and ``--dry-run``
writes nothing. The same for a person only ever referred (referrals that never became a
case), whose clock is the referral's last activity."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import audit, clock, rawsql
from core.models import (
    AccompanimentPlan,
    AccompanimentTask,
    Appointment,
    AuditEvent,
    Base,
    BudgetLine,
    Case,
    CaseDocument,
    CaseSuggestion,
    CaseTransition,
    FollowUp,
    IdempotencyKey,
    Interview,
    Organisation,
    OutboxMessage,
    Person,
    Referral,
    ReferralAttachment,
    ReferralStatusChange,
    TimeEntry,
    WorkshopInvitation,
    WorkshopSession,
    WorkshopTheme,
)
from core.outbox import enqueue_email
from core.privacy import purge
from core.privacy.registry import ANONYMISED, descriptors, undeclared_columns
from core.reports import build_report

LONG_AGO = datetime(2022, 1, 10, 9, 0, tzinfo=UTC)


def populate(session, worker, tag: str, *, birth: date, intake: date,
             last_contact: datetime, case_state: str = "closed", loan_status: str = "repaid"):
    """A person with a row in every table that can hold their data; returns the personal
    values to look for (distinctive strings and the birth date)."""
    from plugins.credit_municipal.ficp_models import FicpCheck
    from plugins.credit_municipal.models import Installment, Loan, Repayment

    first, last = f"Zéphyrine{tag}", f"Quatremare{tag}"
    phone, email = f"06{tag}7788", f"zephyrine.{tag.lower()}@exemple.test"
    address = f"12 rue des Tilleuls {tag}"
    notes = {k: f"{k} secret {tag}" for k in (
        "projet", "motif", "partagee", "privee", "piece", "lieu", "compte-rendu", "raison",
        "derogation", "orientation", "message", "suivi", "intime", "tache", "action", "issue",
        "commentaire", "temps", "nafnumber", "reorientation", "refus")}
    person = Person(first_name=first, last_name=last, birth_date=birth, phone=phone,
                    email=email, address=address, postal_code="31000", city="Toulouse",
                    children_ages=[4, 9], employment="cdd",
                    monthly_resources=Decimal("1234.56"), last_contact_at=last_contact)
    session.add(person)
    session.flush()
    case = Case(reference=f"P-{uuid.uuid4().hex[:10]}", person_id=person.id,
                purpose="mobility", amount_requested=Decimal("2000"), project=notes["projet"],
                intake_date=intake, state=case_state, social_worker_id=worker.id,
                import_key=f"sha256:{tag}")
    session.add(case)
    session.flush()
    at = datetime.combine(intake, datetime.min.time(), UTC) + timedelta(hours=12)
    previous = None
    for i, (state, data) in enumerate([
        ("intake", {}), ("evaluation", {}), ("instruction", {}),
        ("submitted_to_lender", {}),
        ("granted", {"amount_granted": "1800.00", "months": 24, "who": f"{first} {last}"}),
        (case_state, {}),
    ]):
        session.add(CaseTransition(case_id=case.id, from_state=previous, to_state=state,
                                   at=at + timedelta(days=i), data=data,
                                   reason_text=notes["motif"] if i == 5 else ""))
        previous = state
    session.add_all([
        Interview(case_id=case.id, held_on=intake, shared_note=notes["partagee"],
                  private_note=notes["privee"]),
        BudgetLine(case_id=case.id, kind="resource", category="salary", amount=Decimal("900")),
        CaseDocument(case_id=case.id, code="identity", label="Pièce d'identité",
                     note=notes["piece"]),
        Appointment(case_id=case.id, social_worker_id=worker.id, starts_at=at,
                    place=notes["lieu"], outcome_note=notes["compte-rendu"]),
        CaseSuggestion(case_id=case.id, plugin="caf", code="x", label="Aide CAF",
                       reason=notes["raison"], override_reason=notes["derogation"]),
        AccompanimentPlan(case_id=case.id, signed_on=intake, months=[1, 3]),
        FollowUp(case_id=case.id, shared_note=notes["suivi"], private_note=notes["intime"]),
        AccompanimentTask(case_id=case.id, kind="other", message=notes["tache"],
                          suggested_action=notes["action"], outcome=notes["issue"]),
        TimeEntry(user_id=worker.id, case_id=case.id, activity="interview",
                  category="intake", minutes=30, day=intake, note=notes["temps"]),
    ])
    org = session.scalar(select(Organisation).where(Organisation.kind == "ccas"))
    referral = Referral(from_organisation_id=org.id, to_organisation_id=org.id,
                        first_name=first, last_name=last, birth_date=birth, phone=phone,
                        email=email, purpose="mobility", note=notes["orientation"],
                        extra={"caf_number": notes["nafnumber"]}, case_id=case.id,
                        consent=True, status="accepted")
    session.add(referral)
    session.flush()
    session.add_all([
        ReferralStatusChange(referral_id=referral.id, to_status="declined",
                             message=notes["message"]),
        ReferralAttachment(referral_id=referral.id, filename=f"avis-{last}.pdf",
                           content_type="application/pdf", size=20,
                           content=f"%PDF {first} {last}".encode()),
    ])
    # The case's reorientation to a partner: an outgoing referral (no case of its own),
    # linked to the person through ``source_case_id``.
    outgoing = Referral(from_organisation_id=org.id, to_organisation_id=org.id,
                        first_name=first, last_name=last, birth_date=birth, phone=phone,
                        email=email, purpose="mobility", note=notes["reorientation"],
                        source_case_id=case.id, consent=True, status="declined")
    session.add(outgoing)
    session.flush()
    session.add(ReferralStatusChange(referral_id=outgoing.id, to_status="declined",
                                     message=notes["refus"]))
    theme = WorkshopTheme(title=f"Budget {tag}")
    session.add(theme)
    session.flush()
    ws = WorkshopSession(theme_id=theme.id, starts_at=at, place="Salle A", capacity=10)
    session.add(ws)
    session.flush()
    session.add(WorkshopInvitation(session_id=ws.id, person_id=person.id, case_id=case.id,
                                   comment=notes["commentaire"]))
    enqueue_email(session, email, f"Rendez-vous de {first}", f"Bonjour {first} {last}",
                  topic=f"appointment:{case.id}")
    session.add(IdempotencyKey(user_id=worker.id, key=f"k-{tag}", fingerprint="f" * 64,
                               state="done", response_status=201,
                               response_body=json.dumps({"first_name": first}),
                               expires_at=clock.now() + timedelta(hours=20)))
    audit.record(session, "documents.email", case, to=email)
    audit.record(session, "person.update", person, changes={"phone": [None, phone]})
    audit.record(session, "import.cases", None, sample=f"{last} {first}, {address}")
    session.add(FicpCheck(case_id=case.id, result="clear", checked_on=intake))
    loan = Loan(case_id=case.id, reference=case.reference, amount=Decimal("1800"), months=24,
                annual_rate=Decimal("0.0304"), method="annuity", subsidy_share=Decimal("100"),
                decided_on=intake, offer_valid_until=intake + timedelta(days=15),
                status=loan_status, disbursed_on=intake + timedelta(days=20))
    session.add(loan)
    session.flush()
    session.add(Installment(loan_id=loan.id, number=1, due_date=intake + timedelta(days=50),
                            payment=Decimal("78"), principal=Decimal("74"),
                            interest=Decimal("4"), subsidy=Decimal("4"),
                            borrower_payment=Decimal("74"), balance=Decimal("1726")))
    session.add(Repayment(loan_id=loan.id, paid_on=intake + timedelta(days=50),
                          amount=Decimal("74"), interest_part=Decimal("0"),
                          principal_part=Decimal("74")))
    session.flush()
    texts = {first, last, phone, email, address, birth.isoformat(), birth.strftime("%d/%m/%Y"),
             *notes.values()}
    return person, case, texts


def scan(ccas_database, texts: set[str], birth: date) -> list[str]:
    """``table.column`` of every value, in any table, holding one of ``texts`` or the birth
    date (read as the owner with the RLS escape hatch: nothing hidden)."""
    lowered = [t.lower() for t in texts]
    found = []
    with ccas_database.owner_connection() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            rawsql.set_tenant_guc(conn, "", "on", None)
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(table.select()).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    if isinstance(value, date) and not isinstance(value, datetime):
                        if value == birth:
                            found.append(f"{table.name}.{column}")
                        continue
                    if isinstance(value, bytes | memoryview):
                        text = bytes(value).decode("utf-8", "ignore")
                    elif isinstance(value, dict | list):
                        text = json.dumps(value, ensure_ascii=False)
                    else:
                        text = str(value)
                    if any(t in text.lower() for t in lowered):
                        found.append(f"{table.name}.{column}")
    return sorted(set(found))


@pytest.fixture
def two_people(app, session, tenant, users, in_tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")
    with in_tenant(tenant):
        old = populate(session, users["social_worker"], "OLD", birth=date(1961, 11, 17),
                       intake=date(2022, 3, 8), last_contact=LONG_AGO)
        recent = populate(session, users["social_worker"], "NEW", birth=date(1979, 6, 21),
                          intake=date(2022, 5, 4), last_contact=clock.now())
        session.commit()
    return old, recent


def test_every_text_column_is_declared_personal_or_not(app):
    missing = undeclared_columns(Base.metadata.sorted_tables, descriptors())
    assert missing == [], "declare these columns in core/privacy/registry.py (or the " \
                          f"plugin's ccas_personal_data): {missing}"


def test_purge_leaves_no_personal_value_of_a_purged_person_in_any_table(
        two_people, session, tenant, in_tenant, ccas_database):
    (old, _case, old_texts), (recent, _rcase, recent_texts) = two_people
    assert scan(ccas_database, old_texts, date(1961, 11, 17))  # the scan does see them
    with in_tenant(tenant):
        summary = purge.purge(session, tenant)
        session.commit()
    assert summary.anonymised == 1 and summary.kept == {}
    assert scan(ccas_database, old_texts, date(1961, 11, 17)) == []
    # The recent person's data are untouched, everywhere they were.
    recent_found = scan(ccas_database, recent_texts, date(1979, 6, 21))
    for place in ("persons.first_name", "persons.email", "persons.birth_date",
                  "interviews.private_note", "referral_attachments.content",
                  "outbox_messages.recipient", "audit_events.detail", "cases.project"):
        assert place in recent_found
    with in_tenant(tenant):
        session.expire_all()
        person = session.get(Person, (tenant.id, old.id))
        assert person.first_name == person.last_name == ANONYMISED
        assert person.anonymised_at is not None and person.birth_date.year == 1961
        assert session.scalar(select(ReferralAttachment.id).join(
            Referral, Referral.id == ReferralAttachment.referral_id).where(
            Referral.first_name == ANONYMISED)) is None
        assert session.get(Person, (tenant.id, recent.id)).first_name == "ZéphyrineNEW"
        assert session.scalar(select(AuditEvent.id).where(
            AuditEvent.action == "person.anonymise")) is not None


def test_yearly_report_is_the_same_after_a_purge(two_people, session, tenant, in_tenant):
    with in_tenant(tenant):
        before = build_report(session, tenant, 2022)
        purge.purge(session, tenant)
        session.commit()
        session.expire_all()
        after = build_report(session, tenant, 2022)
    assert before["requests"] == 2 and before["granted"] == 2
    assert after == before


def test_an_open_loan_keeps_the_person_past_retention(app, session, tenant, users, in_tenant,
                                                       enable_plugin, ccas_database):
    enable_plugin(tenant, "credit_municipal")
    with in_tenant(tenant):
        by_case = populate(session, users["social_worker"], "RPY", birth=date(1970, 1, 2),
                           intake=date(2021, 3, 8), last_contact=LONG_AGO,
                           case_state="repaying", loan_status="repaying")
        by_loan = populate(session, users["social_worker"], "DEF", birth=date(1971, 1, 2),
                           intake=date(2021, 3, 8), last_contact=LONG_AGO,
                           case_state="closed", loan_status="defaulted")
        session.commit()
        summary = purge.purge(session, tenant)
        session.commit()
    assert summary.anonymised == 0
    assert sum(summary.kept.values()) == 2
    assert any("prêt est en cours" in reason for reason in summary.kept)
    assert any("Crédit Municipal" in reason for reason in summary.kept)
    assert "persons.first_name" in scan(ccas_database, by_case[2], date(1970, 1, 2))
    assert "persons.first_name" in scan(ccas_database, by_loan[2], date(1971, 1, 2))


def test_retention_is_a_tenant_setting(two_people, session, tenant, in_tenant):
    now = clock.now()
    assert purge.retention_months(tenant) == 24
    with in_tenant(tenant):
        tenant.settings = {**(tenant.settings or {}), "privacy": {"retention_months": 1200}}
        session.commit()
        assert purge.due_persons(session, tenant, now) == []
        tenant.settings = {**tenant.settings, "privacy": {"retention_months": 12}}
        session.commit()
        assert [p.first_name for p in purge.due_persons(session, tenant, now)] == \
            ["ZéphyrineOLD"]


def test_dry_run_writes_nothing_and_tells_what_it_would_do(two_people, ccas, ccas_database):
    (_old, _case, old_texts), _recent = two_people
    before = scan(ccas_database, old_texts, date(1961, 11, 17))
    result = ccas("purge", "--tenant", "alpha", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Personnes seraient anonymisées : 1." in result.output
    assert "persons : 1" in result.output and "rien n'a été écrit" in result.output
    assert scan(ccas_database, old_texts, date(1961, 11, 17)) == before


def test_purge_command_anonymises_and_summarises(two_people, ccas, ccas_database):
    (_old, _case, old_texts), _recent = two_people
    result = ccas("purge", "--tenant", "alpha")
    assert result.exit_code == 0, result.output
    assert "Personnes anonymisées : 1." in result.output
    assert "referral_attachments : 1" in result.output
    assert scan(ccas_database, old_texts, date(1961, 11, 17)) == []
    again = ccas("purge", "--tenant", "alpha")
    assert "Personnes anonymisées : 0." in again.output


@pytest.mark.parametrize(("born", "intakes", "expected"), [
    (date(1990, 6, 15), [date(2023, 3, 10)], date(1990, 3, 11)),
    (date(1990, 6, 15), [date(2023, 7, 1)], date(1990, 1, 1)),
    (date(1990, 3, 10), [date(2023, 3, 10), date(2024, 1, 5)], date(1990, 1, 6)),
    (date(1991, 3, 5), [date(2024, 2, 29)], date(1991, 3, 1)),
    (None, [date(2023, 1, 1)], None),
])
def test_pseudo_birth_date_keeps_the_age_on_every_request_date(born, intakes, expected):
    pseudo = purge.pseudo_birth_date(born, intakes)
    assert pseudo == expected
    if born is not None:
        for day in intakes:
            def age(b, d=day):
                return d.year - b.year - ((d.month, d.day) < (b.month, b.day))
            assert age(pseudo) == age(born)


# -- referrals that never became a case ---------------------------------------------------

CAF = "CAF de la Haute-Garonne"


def refer_without_case(session, tenant, users, caf_agent, tag: str, *, at: datetime,
                       birth: date, allocataire: str):
    """One person referred three times by the partner association, never a case: to the
    CAF (plugin fields, attachment, webhook with the person's data; accepted by the CAF,
    which e-mails the person), to the CCAS (declined with a message) and to the CCAS again
    (reminded, then expired). Returns the referrals and the personal values to look for."""
    from core import referrals

    first, last = f"Anatolie{tag}", f"Brisemiche{tag}"
    phone, email = f"07{tag}5544", f"anatolie.{tag.lower()}@exemple.test"
    note, message = f"note orientation secrète {tag}", f"message refus secret {tag}"
    caf = session.scalar(select(Organisation).where(Organisation.name == CAF))

    def data(**over):
        values = dict(first_name=first, last_name=last, birth_date=birth, purpose="mobility",
                      amount_requested="1500", consent=True, phone=phone, email=email,
                      note=note)
        values.update(over)
        return referrals.ReferralInput(**values)

    to_caf = referrals.submit(
        session, users["referrer"],
        data(to_organisation_id=caf.id,
             extra={"allocataire_number": allocataire, "family_quotient": 612}),
        [referrals.AttachmentInput(f"avis-{last}.pdf", "application/pdf",
                                   f"%PDF-1.4 {first} {last}".encode())],
        tenant=tenant, at=at)
    referrals.accept(session, to_caf, caf_agent, tenant=tenant, at=at + timedelta(days=3))
    declined = referrals.submit(session, users["referrer"], data(), tenant=tenant,
                                at=at + timedelta(days=1))
    referrals.decline(session, declined, users["manager"], "incomplete", message,
                      tenant=tenant, at=at + timedelta(days=5))
    expired = referrals.submit(session, users["referrer"], data(note=""), tenant=tenant,
                               at=at + timedelta(days=2))
    assert referrals.remind_and_expire(session, tenant, at + timedelta(days=15)) == (1, 0)
    assert referrals.remind_and_expire(session, tenant, at + timedelta(days=40)) == (0, 1)
    # Copies outside the referral's rows: an API replay and an audit detail naming them.
    session.add(IdempotencyKey(user_id=users["referrer"].id, key=f"r-{tag}",
                               fingerprint="f" * 64, state="done", response_status=201,
                               response_body=json.dumps({"id": str(declined.id),
                                                         "first_name": first,
                                                         "last_name": last}),
                               expires_at=clock.now() + timedelta(hours=20)))
    audit.record(session, "import.referrals", None, sample=f"{last} {first}, {phone}")
    session.flush()
    texts = {first, last, phone, email, note, message, allocataire, birth.isoformat(),
             birth.strftime("%d/%m/%Y")}
    return [to_caf, declined, expired], texts


@pytest.fixture
def referred(app, session, tenant, users, in_tenant, enable_plugin, make_user):
    """An old and a recent referral-only person (see :func:`refer_without_case`)."""
    from core import accounts

    enable_plugin(tenant, "caf")
    with in_tenant(tenant):
        caf = accounts.create_organisation(session, CAF, "aid_fund", plugin_name="caf")
        caf.webhook_url = "https://caf.exemple.test/orientations"
        session.commit()
    caf_agent = make_user(tenant, "referrer", org=CAF, org_kind="aid_fund")
    with in_tenant(tenant):
        old = refer_without_case(session, tenant, users, caf_agent, "OLD", at=LONG_AGO,
                                 birth=date(1958, 2, 23), allocataire="7654321")
        recent = refer_without_case(session, tenant, users, caf_agent, "NEW",
                                    at=clock.now() - timedelta(days=60),
                                    birth=date(1987, 10, 4), allocataire="2468013")
        session.commit()
    return old, recent


def referral_facts(session) -> dict:
    """What the reports read of each referral (id → facts)."""
    return {r.id: (r.from_organisation_id, r.to_organisation_id, str(r.status), r.purpose,
                   r.amount_requested, r.decline_reason, r.created_at, r.updated_at,
                   r.status_changed_at, r.consent_at)
            for r in session.scalars(select(Referral))}


def test_purge_leaves_no_personal_value_of_a_referral_without_case_in_any_table(
        referred, session, tenant, in_tenant, ccas_database):
    (old, old_texts), (recent, recent_texts) = referred
    old_birth, recent_birth = date(1958, 2, 23), date(1987, 10, 4)
    seen = scan(ccas_database, old_texts, old_birth)
    # The scan does see them, wherever the referral put them.
    for place in ("referrals.first_name", "referrals.birth_date", "referrals.phone",
                  "referrals.email", "referrals.note", "referrals.extra",
                  "referral_status_changes.message", "referral_attachments.content",
                  "referral_attachments.filename", "outbox_messages.payload",
                  "outbox_messages.recipient", "idempotency_keys.response_body",
                  "audit_events.detail"):
        assert place in seen
    with in_tenant(tenant):
        assert all(r.case_id is None for r in old + recent)
        facts = referral_facts(session)
        progressed = []
        summary = purge.purge(session, tenant, progress=progressed.append)
        session.commit()
    assert summary.referrals_due == summary.referrals == 3
    assert summary.anonymised == 0 and summary.kept == {}
    assert {r.id for r in progressed} == {r.id for r in old}
    assert summary.rows["referrals"] == 3 and summary.rows["referral_attachments"] == 1
    assert scan(ccas_database, old_texts, old_birth) == []
    # The recent referrals are untouched, everywhere they were.
    recent_found = scan(ccas_database, recent_texts, recent_birth)
    for place in ("referrals.first_name", "referrals.birth_date", "referrals.extra",
                  "referral_attachments.content", "outbox_messages.payload",
                  "outbox_messages.recipient", "idempotency_keys.response_body",
                  "audit_events.detail"):
        assert place in recent_found
    with in_tenant(tenant):
        session.expire_all()
        # The facts the reports count stay: organisations, status, purpose, amount, dates.
        assert referral_facts(session) == facts
        for referral in old:
            row = session.get(Referral, (tenant.id, referral.id))
            assert row.first_name == row.last_name == ANONYMISED
            assert (row.birth_date, row.phone, row.email, row.note, row.extra) == \
                (None, None, None, "", {})
            assert session.scalar(select(AuditEvent.id).where(
                AuditEvent.action == "referral.anonymise",
                AuditEvent.object_id == str(referral.id))) is not None
        assert session.get(Referral, (tenant.id, recent[0].id)).first_name == "AnatolieNEW"
        again = purge.purge(session, tenant)
    assert again.referrals_due == again.referrals == 0


def test_yearly_report_on_referrals_by_partner_is_the_same_after_a_purge(
        referred, session, tenant, in_tenant):
    with in_tenant(tenant):
        before = build_report(session, tenant, 2022)
        purge.purge(session, tenant)
        session.commit()
        session.expire_all()
        after = build_report(session, tenant, 2022)
    by_partner = before["partners"]["by_partner"]
    assert by_partner["Association partenaire"]["referrals"]["received"] == \
        {"accepted": 1, "declined": 1, "expired": 1}
    assert by_partner[CAF]["referrals"]["sent"] == {"accepted": 1}
    assert after["partners"] == before["partners"]
    assert after == before


def test_a_recent_referral_without_case_is_not_purged(referred, session, tenant, users,
                                                       in_tenant, ccas_database):
    """The recent referral-only person, and an old referral answered recently: its last
    activity, not its creation, starts the clock."""
    from core import referrals

    (_old, _old_texts), (_recent, recent_texts) = referred
    with in_tenant(tenant):
        late = referrals.submit(
            session, users["referrer"],
            referrals.ReferralInput(first_name="Hortense", last_name="Tardivelle",
                                    birth_date=date(1966, 7, 9), purpose="housing",
                                    amount_requested="900", consent=True,
                                    phone="0611223344", note="réponse tardive"),
            tenant=tenant, at=LONG_AGO)
        referrals.decline(session, late, users["manager"], "not_eligible",
                          tenant=tenant, at=clock.now() - timedelta(days=20))
        session.commit()
        due = {r.id for r in purge.due_referrals(session, tenant)}
        assert late.id not in due and len(due) == 3
        summary = purge.purge(session, tenant)
        session.commit()
        session.expire_all()
        late = session.get(Referral, (tenant.id, late.id))
        assert (late.first_name, late.phone, late.note) == \
            ("Hortense", "0611223344", "réponse tardive")
    assert summary.referrals == 3
    recent_found = scan(ccas_database, recent_texts, date(1987, 10, 4))
    for place in ("referrals.first_name", "referrals.last_name", "referrals.birth_date",
                  "referrals.phone", "referrals.email", "referrals.note", "referrals.extra",
                  "referral_status_changes.message", "referral_attachments.filename"):
        assert place in recent_found


def test_a_referral_of_a_person_still_followed_spares_the_live_file(
        two_people, referred, session, tenant, users, in_tenant):
    """An old referral without case of someone the CCAS follows today (same names, birth
    date, e-mail): the referral is anonymised, the live file's messages and audit details
    stay."""
    from core import referrals

    _old, (recent, _rcase, _texts) = two_people
    with in_tenant(tenant):
        stale = referrals.submit(
            session, users["referrer"],
            referrals.ReferralInput(first_name=recent.first_name, last_name=recent.last_name,
                                    birth_date=recent.birth_date, purpose="mobility",
                                    amount_requested="700", consent=True,
                                    phone=recent.phone, email=recent.email),
            tenant=tenant, at=LONG_AGO)
        referrals.decline(session, stale, users["manager"], "duplicate", tenant=tenant,
                          at=LONG_AGO + timedelta(days=2))
        session.commit()
        to_person = select(OutboxMessage.id).where(OutboxMessage.recipient == recent.email)
        assert session.scalar(to_person) is not None
        named = select(AuditEvent.id).where(AuditEvent.action == "import.cases")
        details_before = {e.id: e.detail for e in session.scalars(
            select(AuditEvent).where(AuditEvent.object_id == str(recent.id)))}
        summary = purge.purge(session, tenant)
        session.commit()
        session.expire_all()
        assert summary.referrals == 4 and summary.anonymised == 1
        assert session.get(Referral, (tenant.id, stale.id)).first_name == ANONYMISED
        assert session.scalar(to_person) is not None
        assert {e.id: e.detail for e in session.scalars(
            select(AuditEvent).where(AuditEvent.object_id == str(recent.id)))} == details_before
        assert any("QuatremareNEW" in json.dumps(e.detail, ensure_ascii=False)
                   for e in session.scalars(select(AuditEvent).where(
                       AuditEvent.id.in_(named))))


def test_dry_run_counts_referrals_without_case_and_writes_nothing(referred, ccas,
                                                                  ccas_database):
    (_old, old_texts), _recent = referred
    before = scan(ccas_database, old_texts, date(1958, 2, 23))
    result = ccas("purge", "--tenant", "alpha", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "0 personne et 3 orientations sans demande au-delà" in result.output
    assert "Orientations sans demande seraient anonymisées : 3." in result.output
    assert "referrals : 3" in result.output and "rien n'a été écrit" in result.output
    assert scan(ccas_database, old_texts, date(1958, 2, 23)) == before
    done = ccas("purge", "--tenant", "alpha")
    assert "Orientations sans demande anonymisées : 3." in done.output
    assert scan(ccas_database, old_texts, date(1958, 2, 23)) == []


def test_an_audit_detail_naming_a_purged_person_and_a_purged_referral_loses_both(
        two_people, referred, session, tenant, in_tenant, ccas_database):
    (_old, _case, person_texts), _recent = two_people
    (_referrals, referral_texts), _recent_referrals = referred
    with in_tenant(tenant):
        audit.record(session, "import.duplicates", None, kept="ZéphyrineOLD QuatremareOLD",
                     merged="AnatolieOLD BrisemicheOLD")
        session.commit()
        summary = purge.purge(session, tenant)
        session.commit()
    assert summary.anonymised == 1 and summary.referrals == 3
    assert scan(ccas_database, person_texts, date(1961, 11, 17)) == []
    assert scan(ccas_database, referral_texts, date(1958, 2, 23)) == []
