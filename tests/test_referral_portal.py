"""Referral pages: the partner portal, the CCAS incoming queue, the dead letters page;
isolation between organisations and tenants (404); bad input answers 422 and stores
nothing."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from core import referrals
from core.models import Case, OutboxMessage, OutboxStatus, Referral, ReferralStatus

PDF = b"%PDF-1.4\n1 0 obj\n"


def form(**over):
    values = {"first_name": "Léa", "last_name": "Martin", "birth_date": "1990-04-02",
              "phone": "0600000000", "email": "", "purpose": "mobility",
              "amount_requested": "1 200,00", "note": "Permis", "consent": "on"}
    values.update(over)
    return {k: v for k, v in values.items() if v is not None}


def token_of(client, url="/t/alpha/orientations/nouvelle"):
    page = client.get(url)
    assert page.status_code == 200
    return re.search(r'name="form_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def submit(client, **over):
    files = over.pop("files", None)
    data = {**form(**over), "form_token": token_of(client)}
    if files:
        data["attachments"] = files
    return client.post("/t/alpha/orientations/nouvelle", data=data,
                       content_type="multipart/form-data")


def referral_count(session, in_tenant, tenant):
    with in_tenant(tenant):
        session.expire_all()
        return session.scalar(select(func.count()).select_from(Referral))


@pytest.fixture
def referrer_client(app, users, login):
    client = app.test_client()
    login(client, users["referrer"])
    return client


@pytest.fixture
def staff_client(app, users, login):
    client = app.test_client()
    login(client, users["secretary"])
    return client


@pytest.fixture
def sent(app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        r = referrals.submit(session, users["referrer"], referrals.ReferralInput(
            "Léa", "Martin", date(1990, 4, 2), "mobility", "1500", True, phone="06"),
            [referrals.AttachmentInput("avis.pdf", "application/pdf", PDF)], tenant=tenant)
        session.commit()
        assert len(r.attachments) == 1  # loaded while the tenant is set
        return r


def test_referrer_submits_through_the_form_and_follows_it(referrer_client, session, in_tenant,
                                                          tenant):
    res = submit(referrer_client, files=[(io.BytesIO(PDF), "avis.pdf", "application/pdf")])
    assert res.status_code == 302, res.get_data(as_text=True)[:2000]
    page = referrer_client.get(res.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Envoyée" in html and "avis.pdf" in html
    assert "Historique de l&#39;orientation" in html or "Historique de l'orientation" in html
    with in_tenant(tenant):
        session.expire_all()
        r = session.scalar(select(Referral))
        assert str(r.amount_requested) == "1200.00" and len(r.attachments) == 1
    listing = referrer_client.get("/t/alpha/orientations/").get_data(as_text=True)
    assert r.reference in listing and "Envoyée" in listing


def test_the_form_cannot_be_submitted_twice(referrer_client, session, in_tenant, tenant):
    token = token_of(referrer_client)
    data = {**form(), "form_token": token}
    assert referrer_client.post("/t/alpha/orientations/nouvelle", data=data).status_code == 302
    again = referrer_client.post("/t/alpha/orientations/nouvelle", data=data)
    assert again.status_code == 302
    assert referral_count(session, in_tenant, tenant) == 1


@pytest.mark.parametrize(
    "over, field",
    [
        ({"consent": None}, "consent"),
        ({"birth_date": "2019-02-30"}, "birth_date"),
        ({"purpose": "holidays"}, "purpose"),
        ({"files": [(io.BytesIO(b"MZ\x90"), "virus.exe", "application/x-msdownload")]},
         "attachments"),
        ({"files": [(io.BytesIO(b"%PDF-" + b"0" * referrals.MAX_ATTACHMENT_BYTES), "big.pdf",
                     "application/pdf")]}, "attachments"),
    ],
    ids=["no-consent", "invalid-date", "unknown-purpose", "wrong-type", "oversized"],
)
def test_bad_form_input_is_422_accessible_and_stores_nothing(referrer_client, session,
                                                             in_tenant, tenant, over, field):
    res = submit(referrer_client, **over)
    assert res.status_code == 422
    html = res.get_data(as_text=True)
    assert 'class="error-summary"' in html
    assert f'id="{field}-erreur"' in html and 'aria-invalid="true"' in html
    assert referral_count(session, in_tenant, tenant) == 0


def test_staff_queue_shows_the_referral_and_opening_marks_it_received(staff_client, sent,
                                                                      session, in_tenant,
                                                                      tenant):
    html = staff_client.get("/t/alpha/orientations/").get_data(as_text=True)
    assert sent.reference in html
    assert staff_client.get(f"/t/alpha/orientations/{sent.id}").status_code == 200
    with in_tenant(tenant):
        session.expire_all()
        assert session.get(Referral, (tenant.id, sent.id)).status == ReferralStatus.received


def test_staff_accepts_and_a_case_is_opened(staff_client, sent, session, in_tenant, tenant):
    res = staff_client.post(f"/t/alpha/orientations/{sent.id}/accepter")
    assert res.status_code == 302
    with in_tenant(tenant):
        session.expire_all()
        r = session.get(Referral, (tenant.id, sent.id))
        assert r.status == ReferralStatus.accepted
        assert session.scalar(select(Case.id)) == r.case_id


def test_staff_declines_with_a_reason_and_the_referrer_is_told(staff_client, sent, session,
                                                               in_tenant, tenant):
    missing = staff_client.post(f"/t/alpha/orientations/{sent.id}/decliner", data={})
    assert missing.status_code == 422 and 'id="reason-erreur"' in missing.get_data(as_text=True)
    res = staff_client.post(f"/t/alpha/orientations/{sent.id}/decliner",
                            data={"reason": "out_of_territory", "message": "Hors commune"})
    assert res.status_code == 302
    with in_tenant(tenant):
        session.expire_all()
        assert session.get(Referral, (tenant.id, sent.id)).status == ReferralStatus.declined
        subjects = session.scalars(select(OutboxMessage.subject)).all()
        assert any("déclinée" in s for s in subjects)


def test_referrer_cannot_answer_its_own_referral(referrer_client, sent):
    assert referrer_client.post(f"/t/alpha/orientations/{sent.id}/accepter").status_code == 404


def test_referrer_of_another_organisation_gets_404_everywhere(app, sent, tenant, make_user,
                                                              login):
    other = make_user(tenant, "referrer", org="Secours B", org_kind="association")
    client = app.test_client()
    login(client, other)
    attachment = sent.attachments[0]
    for url in (f"/t/alpha/orientations/{sent.id}",
                f"/t/alpha/orientations/{sent.id}/pieces/{attachment.id}"):
        assert client.get(url).status_code == 404
    for url in (f"/t/alpha/orientations/{sent.id}/accepter",
                f"/t/alpha/orientations/{sent.id}/decliner"):
        assert client.post(url, data={"reason": "duplicate"}).status_code == 404
    assert sent.reference not in client.get("/t/alpha/orientations/").get_data(as_text=True)


def test_another_tenant_gets_404(app, sent, other_tenant, make_user, login):
    foreign = make_user(other_tenant, "manager")
    client = app.test_client()
    login(client, foreign)
    assert client.get(f"/t/beta/orientations/{sent.id}").status_code == 404


def test_the_referrer_downloads_its_attachment(referrer_client, sent):
    attachment = sent.attachments[0]
    res = referrer_client.get(f"/t/alpha/orientations/{sent.id}/pieces/{attachment.id}")
    assert res.status_code == 200 and res.data == PDF
    assert res.mimetype == "application/pdf" and "attachment" in res.headers[
        "Content-Disposition"]


def test_roles_outside_the_network_cannot_open_the_portal(app, users, login):
    client = app.test_client()
    login(client, users["funder"])
    assert client.get("/t/alpha/orientations/").status_code == 403


def test_manager_sees_dead_letters_and_requeues_them(app, users, login, session, in_tenant,
                                                     tenant):
    from core.outbox import enqueue_email

    with in_tenant(tenant):
        msg = enqueue_email(session, "x@asso.test", "Orientation ABC acceptée", "Texte")
        msg.status, msg.attempts, msg.last_error = OutboxStatus.dead, 8, "SMTP : refusé"
        session.commit()
    client = app.test_client()
    login(client, users["manager"])
    html = client.get("/t/alpha/orientations/envois-en-echec").get_data(as_text=True)
    assert "Orientation ABC acceptée" in html and "SMTP : refusé" in html
    res = client.post(f"/t/alpha/orientations/envois-en-echec/{msg.id}/relancer")
    assert res.status_code == 302
    with in_tenant(tenant):
        session.expire_all()
        assert session.get(OutboxMessage, (tenant.id, msg.id)).status == OutboxStatus.pending
    other = app.test_client()
    login(other, users["secretary"])
    assert other.get("/t/alpha/orientations/envois-en-echec").status_code == 403


def test_the_manager_reaches_the_rights_page_of_a_referral_without_case(app, sent, users,
                                                                        login, staff_client):
    manager = app.test_client()
    login(manager, users["manager"])
    html = manager.get(f"/t/alpha/orientations/{sent.id}").get_data(as_text=True)
    target = f"/t/alpha/admin/privacy/referrals/{sent.id}"
    assert f'href="{target}"' in html
    assert manager.get(target).status_code == 200
    # the secretary handles the referral but not the person's rights
    assert target not in staff_client.get(f"/t/alpha/orientations/{sent.id}").get_data(
        as_text=True)


def test_the_partners_dashboard_shows_its_referrals_by_status(referrer_client, sent):
    html = referrer_client.get("/t/alpha/").get_data(as_text=True)
    assert "Orientations envoyées en" in html and "En attente de votre réponse" in html
    # the chart of its referrals, each status in words, and the way to refer someone
    assert 'id="graphique-orientations"' in html and "Envoyée : 1" in html
    assert "Orienter une personne" in html and "1 orientation envoyée en tout." in html


def test_an_empty_partners_dashboard_says_what_to_do(referrer_client):
    html = referrer_client.get("/t/alpha/").get_data(as_text=True)
    assert "Vous n'avez encore orienté personne" in html


def test_a_long_list_says_it_is_cut_and_still_shows_every_referral_awaiting_an_answer(
        staff_client, referrer_client, session, in_tenant, tenant, users, monkeypatch):
    """Past the list's cap the page shows the most recently changed referrals and says
    so; a referral still awaiting an answer is shown however old (it would have fallen
    off a plain cut: the CCAS would not see it to answer)."""
    from datetime import UTC, datetime, timedelta

    from core.web import referrals as referral_pages

    monkeypatch.setattr(referral_pages, "LIST_CAP", 2)
    now = datetime.now(UTC)
    with in_tenant(tenant):
        made = [referrals.submit(session, users["referrer"], referrals.ReferralInput(
            "Léa", f"Nom{n}", date(1990, 4, 2), "mobility", "1500", True, phone="06"),
            [], tenant=tenant) for n in range(4)]
        session.flush()
        oldest, *answered = made
        oldest.status_changed_at = now - timedelta(days=40)  # sent, never answered
        for n, r in enumerate(answered):
            r.status = ReferralStatus.declined
            r.status_changed_at = now - timedelta(days=n)
        session.commit()
    for client in (staff_client, referrer_client):
        page = client.get("/t/alpha/orientations/").get_data(as_text=True)
        assert "les 2 orientations les plus récentes" in page
        assert oldest.reference in page  # awaiting an answer: shown beyond the cap
        assert answered[0].reference in page and answered[1].reference in page
        assert answered[2].reference not in page  # the oldest answered one is left out
    staff = staff_client.get("/t/alpha/orientations/").get_data(as_text=True)
    to_answer = staff.split('id="a-traiter"')[1].split("</section>")[0]
    assert oldest.reference in to_answer
    monkeypatch.setattr(referral_pages, "LIST_CAP", 10)
    page = staff_client.get("/t/alpha/orientations/").get_data(as_text=True)
    assert "les plus récentes" not in page and answered[2].reference in page


def test_the_partners_waiting_count_says_more_than_what_it_lists(
        referrer_client, session, in_tenant, tenant, users, monkeypatch):
    """A partner's dashboard lists the referrals awaiting its answer up to ``LIMIT``;
    past it the key figure says "plus de" that many and links to the whole list."""
    from core.web import dashboards

    with in_tenant(tenant):
        for n in range(2):  # sent by the CCAS to the partner (the ids swapped)
            r = referrals.submit(session, users["referrer"], referrals.ReferralInput(
                "Léa", f"Attente{n}", date(1990, 4, 2), "mobility", "1500", True,
                phone="06"), [], tenant=tenant)
            session.flush()
            r.from_organisation_id, r.to_organisation_id = (r.to_organisation_id,
                                                            r.from_organisation_id)
        session.commit()
    page = referrer_client.get("/t/alpha/").get_data(as_text=True)
    assert "<dt>En attente de votre réponse</dt><dd>2</dd>" in page
    monkeypatch.setattr(dashboards, "LIMIT", 1)
    page = referrer_client.get("/t/alpha/").get_data(as_text=True)
    assert "<dt>En attente de votre réponse</dt><dd>plus de 1</dd>" in page
    assert "Les 1 plus anciennes sont listées" in page
