"""The demonstration data read as a social worker reads a case file: every figure agrees
with the others (the household line with the members, ages with birth dates, the budget
with the resources, the loan with its case, no past event dated after now). One demo for
the module, generated with the default seed up to the pinned clock's day."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal

from flask import g
from sqlalchemy import select

from core import clock as platform_clock
from core.cases.household import counts
from core.db import db
from core.demo.stories import AMOUNT_RANGES
from core.models import (
    Appointment,
    BudgetLine,
    Case,
    CaseDocument,
    CaseTransition,
    HouseholdMember,
    Interview,
    Person,
    Referral,
    ReferralStatusChange,
    WorkshopInvitation,
    WorkshopSession,
)
from plugins.credit_municipal.models import Installment, Loan, Repayment
from tests import demo_world

#: the demo built once for the module (tests/demo_world.py)
world, toulouse = demo_world.world, demo_world.toulouse


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def households() -> dict:
    by_person = defaultdict(list)
    for member in db.session.scalars(select(HouseholdMember)):
        by_person[member.person_id].append(member)
    return by_person


def test_the_household_line_agrees_with_the_members_on_the_demo_day(toulouse):
    """The « Foyer » line (the person's adults and children's ages) is what the members
    and their birth dates give on the demo's today, as recording them would."""
    today = platform_clock.today(toulouse)
    members = households()
    persons = db.session.scalars(select(Person)).all()
    assert sum(1 for p in persons if members.get(p.id)) > 100
    wrong = []
    for person in persons:
        found = members.get(person.id, [])
        adults, ages = counts(found, today)
        if (person.adults, list(person.children_ages)) != (adults, ages):
            wrong.append((person.full_name, person.adults, person.children_ages,
                          adults, ages))
        children = sorted(age_on(m.birth_date, today) for m in found
                          if m.birth_date is not None and age_on(m.birth_date, today) < 18)
        assert children == list(person.children_ages), person.full_name
    assert not wrong, wrong[:5]


def test_the_ages_in_a_household_are_those_of_a_family(toulouse):
    """Parents at least 18 older than their children and not past 50 at their birth; a
    spouse or partner an adult of about the person's age; everyone born before the
    intake; the applicant of age on the intake day."""
    members = households()
    intake = {}
    for case in db.session.scalars(select(Case).order_by(Case.intake_date)):
        intake.setdefault(case.person_id, case.intake_date)
    wrong = []
    for person in db.session.scalars(select(Person)):
        first = intake.get(person.id)
        if first is None:
            continue
        if age_on(person.birth_date, first) < 18:
            wrong.append((person.full_name, "minor applicant"))
        for m in members.get(person.id, []):
            assert m.birth_date is not None and m.birth_date <= first, person.full_name
            gap = age_on(person.birth_date, first) - age_on(m.birth_date, first)
            if str(m.relationship) == "child" and not 18 <= gap <= 50:
                wrong.append((person.full_name, "child", gap))
            if str(m.relationship) in ("spouse", "partner") and (
                    abs(gap) > 15 or age_on(m.birth_date, first) < 18):
                wrong.append((person.full_name, "couple", gap))
    assert not wrong, wrong[:5]


def test_the_budget_resources_are_the_persons_resources(toulouse):
    """The budget's resource lines add up to the person's monthly resources; family
    benefits come with children, childcare with a child under 12 on the evaluation's
    day; the income's kind fits the employment."""
    by_case = defaultdict(list)
    for line in db.session.scalars(select(BudgetLine)):
        by_case[line.case_id].append(line)
    assert len(by_case) > 100
    members = households()
    income = {"retired": "pension", "unemployed": "unemployment",
              "minimum_benefits": "minimum_benefits"}
    wrong = []
    for case in db.session.scalars(select(Case).where(Case.id.in_(list(by_case)))):
        lines = by_case[case.id]
        person = case.person
        resources = sum((ln.amount for ln in lines if str(ln.kind) == "resource"),
                        Decimal(0))
        if resources != person.monthly_resources:
            wrong.append((case.reference, "resources", resources,
                          person.monthly_resources))
        evaluated = platform_clock.local_day(db.session.scalar(
            select(CaseTransition.at).where(CaseTransition.case_id == case.id,
                                            CaseTransition.to_state == "evaluation")),
            g.tenant)
        children = [age_on(m.birth_date, evaluated) for m in members.get(person.id, [])
                    if str(m.relationship) == "child"]
        categories = {str(ln.category) for ln in lines}
        if ("childcare" in categories) != any(a < 12 for a in children):
            wrong.append((case.reference, "childcare", children))
        if "family_benefits" in categories and not children:
            wrong.append((case.reference, "family benefits without a child"))
        employment = str(person.employment)
        if employment in income and income[employment] not in categories:
            wrong.append((case.reference, employment, sorted(categories)))
        if employment == "retired" and "salary" in categories:
            wrong.append((case.reference, "retired with a salary"))
        if any(ln.amount <= 0 for ln in lines):
            wrong.append((case.reference, "non-positive line"))
    assert not wrong, wrong[:5]


def test_employment_fits_the_age(toulouse):
    intake = {}
    for case in db.session.scalars(select(Case).order_by(Case.intake_date)):
        intake.setdefault(case.person_id, case.intake_date)
    wrong = []
    for person in db.session.scalars(select(Person)):
        if person.id not in intake:
            continue
        age = age_on(person.birth_date, intake[person.id])
        employment = str(person.employment)
        if employment == "retired" and age < 60 or employment == "student" and age > 30:
            wrong.append((person.full_name, employment, age))
    assert not wrong, wrong[:5]


def test_loans_fit_their_case_the_purpose_and_the_lender(toulouse):
    wrong = []
    for loan in db.session.scalars(select(Loan)):
        case = loan.case
        low, high = AMOUNT_RANGES[str(case.purpose)]
        if not (loan.amount == case.amount_requested and low <= loan.amount <= high
                and 300 <= loan.amount <= 3000 and loan.months <= 36):
            wrong.append((loan.reference, loan.amount, case.amount_requested, loan.months))
        granted = db.session.scalar(select(CaseTransition.at).where(
            CaseTransition.case_id == case.id, CaseTransition.to_state == "granted"))
        if granted is None or platform_clock.local_day(granted, g.tenant) != loan.decided_on:
            wrong.append((loan.reference, "decided", loan.decided_on, granted))
        if loan.disbursed_on is not None:
            dues = sorted(i.due_date for i in db.session.scalars(
                select(Installment).where(Installment.loan_id == loan.id)))
            if not dues or dues[0] <= loan.disbursed_on or len(dues) > loan.months or (
                    len(dues) < loan.months and str(loan.status) != "repaid"):
                wrong.append((loan.reference, "schedule", loan.disbursed_on, dues[:1], len(dues),
                              loan.months, str(loan.status)))
            first_paid = db.session.scalar(select(Repayment.paid_on).where(
                Repayment.loan_id == loan.id).order_by(Repayment.paid_on))
            if first_paid is not None and first_paid < loan.disbursed_on:
                wrong.append((loan.reference, "paid before disbursed"))
    for case in db.session.scalars(select(Case)):
        low, high = AMOUNT_RANGES[str(case.purpose)]
        if not low <= case.amount_requested <= high:
            wrong.append((case.reference, "requested", case.amount_requested))
    assert not wrong, wrong[:5]


def test_no_past_event_is_dated_after_now(toulouse):
    """What happened (moves, documents received, interviews, budgets, referral changes,
    appointments held, workshop registrations) is dated before now; only what is
    planned is in the future."""
    now = platform_clock.now()
    today = platform_clock.today(toulouse)
    session = db.session
    checks = {
        "case created": select(Case.reference).where(Case.created_at > now),
        "case moved": select(Case.reference).where(Case.state_changed_at > now),
        "transition": select(CaseTransition.to_state).where(CaseTransition.at > now),
        "person": select(Person.last_name).where(Person.created_at > now),
        "contact": select(Person.last_name).where(Person.last_contact_at > now),
        "document requested": select(CaseDocument.code).where(
            CaseDocument.requested_at > now),
        "document received": select(CaseDocument.code).where(
            CaseDocument.received_at > now),
        "document changed": select(CaseDocument.code).where(
            CaseDocument.status_changed_at > now),
        "interview held": select(Interview.held_on).where(Interview.held_on > today),
        "interview written": select(Interview.held_on).where(Interview.created_at > now),
        "budget": select(BudgetLine.category).where(BudgetLine.updated_at > now),
        "referral change": select(ReferralStatusChange.to_status).where(
            ReferralStatusChange.at > now),
        "referral": select(Referral.status).where(Referral.status_changed_at > now),
        "member": select(HouseholdMember.first_name).where(HouseholdMember.created_at > now),
        "workshop scheduled": select(WorkshopSession.place).where(
            WorkshopSession.created_at > now),
        "appointment booked": select(Appointment.starts_at).where(
            Appointment.created_at > now),
        "appointment outcome": select(Appointment.starts_at).where(
            Appointment.outcome_at > now),
        "invitation": select(WorkshopInvitation.status).where(
            WorkshopInvitation.invited_at > now),
        "registration": select(WorkshopInvitation.status).where(
            WorkshopInvitation.registered_at > now),
        "invitation changed": select(WorkshopInvitation.status).where(
            WorkshopInvitation.updated_at > now),
        "loan decided": select(Loan.reference).where(Loan.decided_on > today),
        "repayment": select(Repayment.paid_on).where(Repayment.paid_on > today),
    }
    found = {name: session.scalars(query.limit(3)).all() for name, query in checks.items()}
    late = {k: v for k, v in found.items() if v}
    assert not late, " ".join(sorted(late))


def test_workshop_invitations_come_after_the_request(toulouse):
    wrong = []
    for invitation in db.session.scalars(select(WorkshopInvitation)):
        case = db.session.scalar(select(Case).where(Case.id == invitation.case_id))
        day = platform_clock.local_day(invitation.invited_at, g.tenant)
        if day < case.intake_date:
            wrong.append((case.reference, case.intake_date, day))
    assert not wrong, wrong[:5]


def test_states_agree_with_decisions_documents_and_referrals(toulouse):
    """A case past the evaluation has its interviews and budget; one waiting for its
    documents (or stopped there) has not received them all; a referral's history is in
    order and ends on its status."""
    session = db.session
    interviewed = set(session.scalars(select(Interview.case_id)))
    budgeted = set(session.scalars(select(BudgetLine.case_id)))
    wrong = []
    for case in session.scalars(select(Case)):
        reached = set(session.scalars(select(CaseTransition.to_state).where(
            CaseTransition.case_id == case.id)))
        if "evaluation" in reached and not (case.id in interviewed and case.id in budgeted):
            wrong.append((case.reference, "evaluation without interview or budget"))
        if "documents_requested" in reached and "evaluation" not in reached:
            statuses = {str(s) for s in session.scalars(select(CaseDocument.status).where(
                CaseDocument.case_id == case.id))}
            if statuses and "requested" not in statuses:
                wrong.append((case.reference, "every document in, never evaluated"))
    history = defaultdict(list)
    for change in session.scalars(select(ReferralStatusChange)):
        history[change.referral_id].append(change)
    for referral in session.scalars(select(Referral)):
        changes = sorted(history[referral.id], key=lambda c: c.at)
        if not changes or changes[-1].to_status != str(referral.status) \
                or changes[0].to_status != "sent" \
                or changes[-1].at != referral.status_changed_at:
            wrong.append((referral.id, "history", [c.to_status for c in changes]))
        previous = None
        for change in changes:
            if change.from_status != previous:
                wrong.append((referral.id, "chain", change.from_status, previous))
            previous = change.to_status
    assert not wrong, wrong[:5]


def test_incoming_referrals_were_sent_before_the_case_was_opened(toulouse):
    wrong = []
    for referral in db.session.scalars(select(Referral).where(Referral.case_id.is_not(None))):
        case = db.session.scalar(select(Case).where(Case.id == referral.case_id))
        if platform_clock.local_day(referral.created_at, g.tenant) > case.intake_date:
            wrong.append(case.reference)
        if referral.birth_date != case.person.birth_date or \
                referral.last_name != case.person.last_name:
            wrong.append((case.reference, "another person"))
    assert not wrong, wrong[:5]


def test_interviews_fall_between_the_evaluation_and_the_next_move(toulouse):
    wrong = []
    for interview in db.session.scalars(select(Interview)):
        moves = db.session.scalars(select(CaseTransition).where(
            CaseTransition.case_id == interview.case_id).order_by(CaseTransition.at)).all()
        start = next(platform_clock.local_day(m.at, g.tenant) for m in moves
                     if m.to_state == "evaluation")
        if interview.held_on < start:
            wrong.append(interview.case_id)
    assert not wrong, wrong[:5]



def test_records_follow_the_request_they_belong_to(toulouse):
    """Household members are recorded with the person, not before; an appointment is
    booked after the case was opened and before the meeting."""
    session = db.session
    wrong = []
    created = dict(session.execute(select(Person.id, Person.created_at)).all())
    for member in session.scalars(select(HouseholdMember)):
        if member.created_at < created[member.person_id]:
            wrong.append((member.full_name, "member before the person"))
    opened = dict(session.execute(select(Case.id, Case.created_at)).all())
    for appointment in session.scalars(select(Appointment)):
        if not opened[appointment.case_id] <= appointment.created_at \
                < appointment.starts_at:
            wrong.append((appointment.case_id, "booked", appointment.created_at,
                          appointment.starts_at))
    assert not wrong, wrong[:5]


def test_the_information_notice_was_given_to_whoever_was_met(toulouse):
    """A person who came to the desk or to a first meeting got the information notice
    (the tenant's version), that day, and the audit trail says so."""
    from core.models import AuditEvent
    from core.privacy.notice import notice_version

    session = db.session
    recorded = {e.object_id: e for e in session.scalars(
        select(AuditEvent).where(AuditEvent.action == "case.notice"))}
    wrong = []
    for case in session.scalars(select(Case)):
        met = set(session.scalars(select(CaseTransition.to_state).where(
            CaseTransition.case_id == case.id)))
        given = case.notice_given_on is not None \
            and case.notice_version == notice_version(toulouse)
        if (str(case.source) == "walk_in" or "documents_requested" in met) and not given:
            wrong.append((case.reference, "no notice"))
            continue
        if case.notice_given_on is not None:
            event = recorded.get(str(case.id))
            if not case.intake_date <= case.notice_given_on <= platform_clock.today(toulouse) \
                    or event is None or event.detail["on"] != case.notice_given_on.isoformat():
                wrong.append((case.reference, case.notice_given_on))
    assert not wrong, wrong[:5]


def test_the_notes_fit_the_person_and_the_case(toulouse):
    """Nothing written contradicts the file: an adjournment asks for the quote of the
    case's project, a partner's note speaks of the person's purpose (a family only with
    children), an interview names the partner who referred the person and a separation
    only for someone living alone, a follow-up says the repayments are up to date only
    for a borrower who pays on time, and a new permanent job only for someone without
    one."""
    from core.demo.referrals import PURPOSE_PHRASES
    from core.models import FollowUp, Organisation

    session = db.session
    members = households()
    orgs = {o.id: o for o in session.scalars(select(Organisation))}
    wrong = []
    for move in session.scalars(select(CaseTransition).where(
            CaseTransition.to_state == "adjourned")):
        case = session.scalar(select(Case).where(Case.id == move.case_id))
        if "garage" in move.reason_text and str(case.purpose) != "mobility":
            wrong.append((case.reference, move.reason_text))
    for referral in session.scalars(select(Referral).where(Referral.case_id.is_not(None))):
        case = session.scalar(select(Case).where(Case.id == referral.case_id))
        children = [m for m in members.get(case.person_id, [])
                    if str(m.relationship) == "child"]
        if orgs[referral.from_organisation_id].plugin_name != "credit_municipal" and \
                PURPOSE_PHRASES[str(case.purpose)] not in referral.note:
            wrong.append((case.reference, str(case.purpose), referral.note))
        if "Famille" in referral.note and not children:
            wrong.append((case.reference, "family without children"))
    for interview in session.scalars(select(Interview)):
        case = session.scalar(select(Case).where(Case.id == interview.case_id))
        couple = any(str(m.relationship) in ("spouse", "partner")
                     for m in members.get(case.person_id, []))
        referrer = orgs.get(case.referring_organisation_id)
        if "orientée par" in interview.shared_note and (
                referrer is None or referrer.name not in interview.shared_note):
            wrong.append((case.reference, interview.shared_note))
        if "séparation" in interview.private_note and couple:
            wrong.append((case.reference, "separation while in a couple"))
    loans = {loan.case_id: loan for loan in session.scalars(select(Loan))}
    for follow_up in session.scalars(select(FollowUp).where(FollowUp.done_on.is_not(None))):
        case = session.scalar(select(Case).where(Case.id == follow_up.case_id))
        loan = loans.get(case.id)
        note = follow_up.shared_note
        if "Remboursements à jour" in note and (loan is None or loan.late_since is not None
                                                 or str(loan.status) == "defaulted"):
            wrong.append((case.reference, note))
        if "retrouvé un CDI" in note and str(case.person.employment) in (
                "cdi", "retired", "student", "self_employed"):
            wrong.append((case.reference, note, str(case.person.employment)))
        if "conjoint" in note and not any(str(m.relationship) == "spouse"
                                          for m in members.get(case.person_id, [])):
            wrong.append((case.reference, note))
    assert not wrong, wrong[:5]


def test_every_file_sent_to_the_lender_has_the_social_workers_synthesis(toulouse):
    """Written before the file was sent, in the file's words (the amount, the months,
    the project)."""
    from core import formats
    from core.models import Synthesis

    session = db.session
    written = {s.case_id: s for s in session.scalars(select(Synthesis))}
    wrong = []
    for move in session.scalars(select(CaseTransition).where(
            CaseTransition.to_state == "submitted_to_lender")):
        case = session.scalar(select(Case).where(Case.id == move.case_id))
        synthesis = written.get(case.id)
        if synthesis is None:
            wrong.append((case.reference, "no synthesis"))
            continue
        if not (synthesis.written_at <= move.at
                and formats.money(case.amount_requested) in synthesis.request
                and synthesis.project == case.project
                and formats.money(case.person.monthly_resources) in synthesis.resources):
            wrong.append((case.reference, synthesis.request, synthesis.written_at, move.at))
    assert not wrong, wrong[:5]


def test_the_budget_sheet_agrees_with_the_lenders_decision(toulouse):
    """A granted loan's instalment is within the bearable instalment the case's budget
    sheet shows; a refusal for insufficient capacity shows a bearable instalment below
    the one asked for; one for over-indebtedness, heavy current credits."""
    from core.cases import budget

    session = db.session
    by_case = defaultdict(list)
    for line in session.scalars(select(BudgetLine)):
        by_case[line.case_id].append(line)
    first = {i.loan_id: i for i in session.scalars(
        select(Installment).where(Installment.number == 1))}
    wrong = []
    checked = Counter()

    def figures(case):
        lines = by_case[case.id]
        return budget.compute([ln.amount for ln in lines if str(ln.kind) == "resource"],
                              [ln.amount for ln in lines if str(ln.kind) == "charge"],
                              case.person.adults, case.person.children_ages)

    for loan in session.scalars(select(Loan)):
        if loan.case_id not in by_case or loan.id not in first:
            continue
        checked["granted"] += 1
        bearable = figures(loan.case).max_instalment
        if bearable < first[loan.id].payment:
            wrong.append((loan.reference, "granted", bearable, first[loan.id].payment))
    for move in session.scalars(select(CaseTransition).where(
            CaseTransition.to_state == "refused",
            CaseTransition.reason_code.in_(("insufficient_capacity", "over_indebtedness")))):
        case = session.scalar(select(Case).where(Case.id == move.case_id))
        if case.id not in by_case:
            continue
        checked[move.reason_code] += 1
        sheet = figures(case)
        asked = case.amount_requested / 36
        credits = sum((ln.amount for ln in by_case[case.id] if str(ln.category) == "loans"),
                      Decimal(0))
        if move.reason_code == "insufficient_capacity" and sheet.max_instalment >= asked:
            wrong.append((case.reference, "capacity", sheet.max_instalment, asked))
        if move.reason_code == "over_indebtedness" and credits < sheet.resources * \
                Decimal("0.3"):
            wrong.append((case.reference, "credits", credits, sheet.resources))
    assert checked["granted"] > 20 and checked["insufficient_capacity"] > 5, checked
    assert not wrong, wrong[:5]


def test_documents_were_in_before_the_case_moved_on(toulouse):
    session = db.session
    moved = dict(session.execute(select(CaseTransition.case_id, CaseTransition.at).where(
        CaseTransition.from_state == "documents_requested")).all())
    wrong = [(d.case_id, d.code) for d in session.scalars(
        select(CaseDocument).where(CaseDocument.received_at.is_not(None)))
        if d.case_id in moved and d.received_at > moved[d.case_id]]
    assert not wrong, wrong[:5]


def test_the_office_works_on_weekdays_and_phone_calls_have_no_room(toulouse):
    """Past the intake, a case moves on a weekday; an appointment by phone names no
    place."""
    session = db.session
    weekend = [(m.case_id, m.to_state) for m in session.scalars(
        select(CaseTransition).where(CaseTransition.from_state.is_not(None)))
        if platform_clock.local_day(m.at, g.tenant).weekday() >= 5]
    assert not weekend, weekend[:5]
    assert not session.scalars(select(Appointment.id).where(
        Appointment.mode == "phone", Appointment.place != "")).first()


def test_an_ended_work_contract_is_reported_by_someone_who_had_one(toulouse):
    from core.models import AccompanimentTask

    session = db.session
    wrong = []
    for task in session.scalars(select(AccompanimentTask).where(
            AccompanimentTask.kind == "borrower_change")):
        case = session.scalar(select(Case).where(Case.id == task.case_id))
        if "fin de contrat" in task.message and str(case.person.employment) not in (
                "cdi", "cdd", "interim", "part_time"):
            wrong.append((case.reference, str(case.person.employment)))
    assert not wrong, wrong[:5]


def test_loans_and_referrals_tell_the_cases_story(toulouse):
    """A loan's status follows its case (repaying while the case is, repaid or
    defaulted as the case was closed); an accepted referral shows its case's last
    milestone; the lender's register check of a case came before its documents and was
    recorded that day."""
    from core import workflow
    from core.demo.referrals import mirrored
    from plugins.credit_municipal.ficp_models import FicpCheck

    session = db.session
    flow = workflow.current()
    wrong = []
    closing = {m.case_id: m.reason_code for m in session.scalars(
        select(CaseTransition).where(CaseTransition.to_state == "closed"))}
    for loan in session.scalars(select(Loan)):
        state, status = loan.case.state, str(loan.status)
        expected = {"repaying": {"repaying"}, "disbursed": {"repaying"},
                    "withdrawn": {"withdrawn"},
                    "closed": {"defaulted"} if closing.get(loan.case_id) == "default"
                    else {"repaid"}}.get(state)
        if expected is not None and status not in expected:
            wrong.append((loan.reference, state, status))
    for referral in session.scalars(select(Referral).where(Referral.case_id.is_not(None))):
        moves = session.scalars(select(CaseTransition.to_state).where(
            CaseTransition.case_id == referral.case_id).order_by(CaseTransition.at)).all()
        status = "accepted"
        for target in moves:
            status = mirrored(target, flow) or status
        if str(referral.status) != status:
            wrong.append((referral.case_id, str(referral.status), status))
    moved = dict(session.execute(select(CaseTransition.case_id, CaseTransition.at).where(
        CaseTransition.to_state == "documents_requested")).all())
    now = platform_clock.now()
    for check in session.scalars(select(FicpCheck)):
        if check.case_id in moved and platform_clock.local_day(
                moved[check.case_id], g.tenant) < check.checked_on:
            wrong.append((check.case_id, "register checked after the documents"))
        if platform_clock.local_day(check.recorded_at, g.tenant) != check.checked_on \
                or check.recorded_at > now:
            wrong.append((check.case_id, "recorded", check.recorded_at, check.checked_on))
    assert not wrong, wrong[:5]


def test_spouses_share_the_name_and_partners_mostly_keep_theirs(toulouse):
    session = db.session
    names = dict(session.execute(select(Person.id, Person.last_name)).all())
    same = Counter()
    for member in session.scalars(select(HouseholdMember)):
        kind = str(member.relationship)
        same[kind, member.last_name == names[member.person_id]] += 1
    assert same["spouse", False] == same["child", False] == 0, same
    assert same["partner", False] > 5 * same["partner", True], same
