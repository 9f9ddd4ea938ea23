"""Referral services: submit, receive, accept (case pre-filled), decline (coded reason),
mirroring of case milestones, reorientation to a partner, reminders and expiry, hooks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from marshmallow import Schema, fields
from sqlalchemy import func, select

from core import cases, clock, referrals, workflow
from core.errors import NotFound, UserError
from core.models import (
    Case,
    Organisation,
    OutboxMessage,
    Person,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
    Source,
)
from core.testing.pytest_plugin import probe_plugin
from core.workflow import TransitionRequest


def data(**over):
    values = dict(first_name="Léa", last_name="Martin", birth_date=date(1990, 4, 2),
                  purpose="mobility", amount_requested="1500", consent=True,
                  phone="0600000000", email="lea@example.test", note="Permis B")
    values.update(over)
    return referrals.ReferralInput(**values)


@pytest.fixture
def submitted(app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        referral = referrals.submit(session, users["referrer"], data(), tenant=tenant)
        session.commit()
        yield referral


def statuses(session, referral):
    return [c.to_status for c in session.scalars(
        select(ReferralStatusChange).where(ReferralStatusChange.referral_id == referral.id)
        .order_by(ReferralStatusChange.at))]


def move(session, case, target, actor, **kw):
    workflow.apply_transition(session, case, TransitionRequest(target, case.version, **kw),
                              actor)
    session.commit()


def test_submit_records_consent_status_history_and_audit(submitted, users, session):
    assert submitted.status == ReferralStatus.sent
    assert submitted.consent and submitted.consent_by == users["referrer"].full_name
    assert submitted.from_organisation.name == "Association partenaire"
    assert submitted.to_organisation.kind == "ccas"
    assert statuses(session, submitted) == ["sent"]


def test_submit_without_consent_is_refused_and_nothing_written(app, tenant, users, session,
                                                                in_tenant):
    with in_tenant(tenant):
        with pytest.raises(UserError) as err:
            referrals.submit(session, users["referrer"], data(consent=False), tenant=tenant)
        assert "consent" in err.value.errors
        session.rollback()
        assert session.scalar(select(func.count()).select_from(Referral)) == 0


def test_submit_reports_every_invalid_field_at_once(app, tenant, users, session, in_tenant):
    with in_tenant(tenant), pytest.raises(UserError) as err:
        referrals.submit(session, users["referrer"],
                         data(purpose="holidays", amount_requested="abc", consent=False,
                              phone=None, email=None), tenant=tenant)
    assert {"purpose", "amount_requested", "consent", "phone"} <= set(err.value.errors)


def test_wrong_attachment_type_and_size_are_refused(app, tenant, users, session, in_tenant):
    exe = referrals.AttachmentInput("virus.pdf", "application/pdf", b"MZ\x90\x00")
    big = referrals.AttachmentInput("big.pdf", "application/pdf",
                                    b"%PDF-" + b"0" * referrals.MAX_ATTACHMENT_BYTES)
    with in_tenant(tenant):
        for item in (exe, big):
            with pytest.raises(UserError) as err:
                referrals.submit(session, users["referrer"], data(), [item], tenant=tenant)
            assert "attachments" in err.value.errors
            session.rollback()


def test_opening_by_the_receiver_marks_received_but_not_by_the_sender(submitted, users,
                                                                      session, tenant):
    assert not referrals.mark_received(session, submitted, users["referrer"], tenant=tenant)
    assert referrals.mark_received(session, submitted, users["secretary"], tenant=tenant)
    session.commit()
    assert submitted.status == ReferralStatus.received
    assert statuses(session, submitted) == ["sent", "received"]


def test_accept_opens_a_prefilled_case_from_the_referral(submitted, users, session, tenant):
    case = referrals.accept(session, submitted, users["secretary"], tenant=tenant)
    session.commit()
    assert submitted.status == ReferralStatus.accepted and submitted.case_id == case.id
    assert case.source == Source.referral
    assert case.referring_organisation_id == submitted.from_organisation_id
    assert case.amount_requested == submitted.amount_requested
    assert str(case.purpose) == "mobility" and case.project == "Permis B"
    person = case.person
    assert (person.first_name, person.last_name, person.birth_date, person.phone) == (
        "Léa", "Martin", date(1990, 4, 2), "0600000000")


def test_accept_reuses_the_existing_person_with_same_identity(submitted, users, session,
                                                              tenant):
    existing = cases.create_person(session, cases.PersonData("LEA", "martin", date(1990, 4, 2)))
    session.commit()
    case = referrals.accept(session, submitted, users["secretary"], tenant=tenant)
    session.commit()
    assert case.person_id == existing.id
    assert session.scalar(select(func.count()).select_from(Person)) == 1


def test_only_the_receiving_side_may_answer(submitted, users, session, tenant):
    with pytest.raises(NotFound):
        referrals.accept(session, submitted, users["referrer"], tenant=tenant)
    referrals.decline(session, submitted, users["secretary"], "out_of_territory", tenant=tenant)
    session.commit()
    with pytest.raises(UserError) as err:
        referrals.accept(session, submitted, users["secretary"], tenant=tenant)
    assert err.value.status == 409


def test_decline_needs_a_coded_reason_from_the_tenant_list(submitted, users, session, tenant):
    with pytest.raises(UserError, match="motif"):
        referrals.decline(session, submitted, users["secretary"], "", tenant=tenant)
    with pytest.raises(UserError, match="Motif inconnu"):
        referrals.decline(session, submitted, users["secretary"], "bored", tenant=tenant)
    referrals.decline(session, submitted, users["secretary"], "duplicate", "Déjà suivie.",
                      tenant=tenant)
    session.commit()
    assert submitted.status == ReferralStatus.declined and submitted.decline_reason == "duplicate"
    last = session.scalars(select(ReferralStatusChange).order_by(
        ReferralStatusChange.at.desc())).first()
    assert (last.reason_code, last.message) == ("duplicate", "Déjà suivie.")


def test_referral_mirrors_the_case_milestones(submitted, users, session, tenant):
    case = referrals.accept(session, submitted, users["secretary"], tenant=tenant)
    session.commit()
    move(session, case, "documents_requested", users["secretary"])
    assert submitted.status == ReferralStatus.accepted  # not a milestone the referrer knows
    move(session, case, "abandoned", users["secretary"], reason="no_response")
    session.refresh(submitted)
    assert submitted.status == ReferralStatus.abandoned
    assert statuses(session, submitted) == ["sent", "accepted", "abandoned"]


def test_reorientation_to_a_partner_creates_an_outgoing_referral(app, tenant, users, session,
                                                                 in_tenant):
    with in_tenant(tenant):
        partner = session.scalar(select(Organisation).where(
            Organisation.name == "Association partenaire"))
        destination = f"org:{partner.id}"
        assert destination in workflow.destinations()
        assert not any(code.startswith("org:") and "Crédit" in label
                       for code, label in workflow.destinations().items())
        person = cases.create_person(session, cases.PersonData("Paul", "Durand",
                                                               date(1985, 1, 1)))
        case = cases.open_case(session, person, "employment", "2000", tenant=tenant)
        session.commit()
        move(session, case, "reoriented", users["social_worker"], reason="professional_project",
             destination=destination,
             data={"consent": "yes", "consent_method": "in_person"})
        out = session.scalar(select(Referral).where(Referral.source_case_id == case.id))
        assert out.to_organisation_id == partner.id
        assert out.from_organisation.kind == "ccas"
        assert (out.first_name, out.purpose, out.status) == ("Paul", "employment", "sent")
        assert out.consent and out.consent_by == users["social_worker"].full_name
        assert out.consent_method == "in_person"
        # The partner's referrer sees it and may answer it; the CCAS staff may not answer.
        referrer = users["referrer"]
        assert referrals.get_referral(session, referrer, out.id) is out
        assert referrals.is_receiver(referrer, out)
        assert not referrals.is_receiver(users["secretary"], out)
        referrals.accept(session, out, referrer, tenant=tenant)
        session.commit()
        assert out.status == ReferralStatus.accepted and out.case_id is None


def test_reminder_after_10_days_and_expiry_after_30(submitted, session, tenant):
    start = submitted.created_at
    assert referrals.remind_and_expire(session, tenant, start + timedelta(days=9)) == (0, 0)
    assert referrals.remind_and_expire(session, tenant, start + timedelta(days=10)) == (1, 0)
    assert referrals.remind_and_expire(session, tenant, start + timedelta(days=11)) == (0, 0)
    reminders = session.scalars(select(OutboxMessage).where(
        OutboxMessage.topic.like("%:reminder"))).all()
    assert reminders and all("Relance" in m.subject for m in reminders)
    assert referrals.remind_and_expire(session, tenant, start + timedelta(days=30)) == (0, 1)
    session.commit()
    assert submitted.status == ReferralStatus.expired


def test_reminder_and_expiry_delays_are_tenant_settings(submitted, session, tenant):
    tenant.settings = {"referrals": {"remind_after_days": 2, "expire_after_days": 5}}
    start = submitted.created_at
    assert referrals.settings(tenant) == {"remind_after_days": 2, "expire_after_days": 5}
    assert referrals.remind_and_expire(session, tenant, start + timedelta(days=2)) == (1, 0)
    assert referrals.remind_and_expire(session, tenant, start + timedelta(days=5)) == (0, 1)


def test_answered_referrals_are_neither_reminded_nor_expired(submitted, users, session, tenant):
    referrals.accept(session, submitted, users["secretary"], tenant=tenant)
    later = clock.now() + timedelta(days=60)
    assert referrals.remind_and_expire(session, tenant, later) == (0, 0)





def test_plugins_hear_of_received_referrals_and_status_changes(app, tenant, users, session,
                                                               in_tenant, with_plugin):
    heard = []
    with_plugin(probe_plugin(
        "listener",
        ccas_referral_received=lambda referral: heard.append(("received", referral.status)),
        ccas_referral_status_changed=lambda referral, old_status, new_status: heard.append(
            (old_status, new_status)),
    ))
    with in_tenant(tenant):
        referral = referrals.submit(session, users["referrer"], data(), tenant=tenant)
        referrals.decline(session, referral, users["manager"], "incomplete", tenant=tenant)
        session.commit()
    assert heard == [("received", ReferralStatus.sent), ("sent", "declined")]


class CafFields(Schema):
    allocataire = fields.String(required=True)


def test_plugin_schema_validates_the_extra_fields_of_its_organisation(
        app, tenant, users, session, in_tenant, with_plugin):
    with_plugin(probe_plugin(
        "cafprobe",
        ccas_referral_fields_schema=lambda organisation: (
            CafFields if organisation.kind == "ccas" else None),
    ))
    with in_tenant(tenant):
        with pytest.raises(UserError) as err:
            referrals.submit(session, users["referrer"], data(extra={}), tenant=tenant)
        assert list(err.value.errors) == ["extra.allocataire"]
        session.rollback()
        ok = referrals.submit(session, users["referrer"], data(extra={"allocataire": "123"}),
                              tenant=tenant)
        session.commit()
        assert ok.extra == {"allocataire": "123"}


def test_extra_fields_without_a_schema_are_refused(app, tenant, users, session, in_tenant):
    with in_tenant(tenant), pytest.raises(UserError) as err:
        referrals.submit(session, users["referrer"], data(extra={"x": 1}), tenant=tenant)
    assert list(err.value.errors) == ["extra.x"]


class ReceiverFields(Schema):
    shared = fields.Integer(required=True, metadata={"label": "Champ partagé"})
    mine = fields.String(load_default=None)


class SenderFields(Schema):
    shared = fields.String(required=True)  # shadowed by the receiver's field
    quotient = fields.Integer(required=True, metadata={"label": "Quotient"})


def test_sending_and_receiving_side_fields_are_merged_the_receiver_winning_a_conflict(
        app, tenant, users, session, in_tenant, with_plugin):
    asked = []

    def sending_side(organisation, sender):
        asked.append((organisation.kind, sender.name if sender else None))
        return SenderFields if sender is not None else None

    # The receiving side, as a plugin written before ``sender`` existed.
    with_plugin(probe_plugin("receiverprobe", ccas_referral_fields_schema=lambda organisation: (
        ReceiverFields if organisation.kind == "ccas" else None)))
    with_plugin(probe_plugin("senderprobe", ccas_referral_fields_schema=sending_side))
    with in_tenant(tenant):
        sender = users["referrer"].organisation
        merged = referrals.extra_fields(referrals.ccas_organisation(session), sender)
        assert [(name, type(f).__name__) for name, f in merged.fields()] == [
            ("shared", "Integer"), ("mine", "String"), ("quotient", "Integer")]
        assert merged.labels()["shared"] == "Champ partagé"
        with pytest.raises(UserError) as err:
            referrals.submit(session, users["referrer"],
                             data(extra={"shared": "texte", "quotient": "abc"}), tenant=tenant)
        assert sorted(err.value.errors) == ["extra.quotient", "extra.shared"]
        assert err.value.errors["extra.shared"][0].startswith("Champ partagé : ")
        assert err.value.status == 422
        session.rollback()
        ok = referrals.submit(session, users["referrer"],
                              data(extra={"shared": "3", "quotient": 450}), tenant=tenant)
        session.commit()
        assert ok.extra == {"shared": 3, "mine": None, "quotient": 450}
        assert session.scalar(select(func.count()).select_from(Referral)) == 1
    assert asked[0] == ("ccas", sender.name)


def test_a_plugin_failing_to_give_its_fields_refuses_the_referral_and_names_it(
        app, tenant, users, session, in_tenant, with_plugin):
    def broken(organisation, sender):
        raise RuntimeError("boom")

    with_plugin(probe_plugin("brokenfields", ccas_referral_fields_schema=broken))
    with in_tenant(tenant), pytest.raises(UserError) as err:
        referrals.submit(session, users["referrer"], data(), tenant=tenant)
    assert err.value.status == 503 and "BROKENFIELDS" in err.value.message  # its label
    with in_tenant(tenant):
        session.rollback()
        assert session.scalar(select(func.count()).select_from(Referral)) == 0


def test_case_count_unchanged_by_a_declined_referral(submitted, users, session, tenant):
    referrals.decline(session, submitted, users["secretary"], "not_eligible", tenant=tenant)
    session.commit()
    assert session.scalar(select(func.count()).select_from(Case)) == 0
