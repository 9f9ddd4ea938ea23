"""The manager's RGPD pages: find a person (audited), see what is held (``person.read``),
rectify the identity (audited, field names only), erase now, or be told why not (an open
loan); the case page links there for the manager only. The same for a person known only
through partners' referrals that never became a case (by name or birth date; their
referrals taken together)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core import clock
from core.models import AuditEvent, Person, Referral
from core.privacy.registry import ANONYMISED
from tests.test_privacy_purge import CAF, populate, refer_without_case, scan


@pytest.fixture
def person(app, session, tenant, users, in_tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")
    with in_tenant(tenant):
        out = populate(session, users["social_worker"], "PG", birth=date(1984, 9, 30),
                       intake=date(2024, 3, 8), last_contact=clock.now())
        session.commit()
    return out


def _actions(session, in_tenant, tenant, action):
    with in_tenant(tenant):
        return session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_search_and_person_page_are_audited(person, client, login, users, session, tenant,
                                            in_tenant):
    p, case, _texts = person
    login(client, users["manager"])
    found = client.post("/t/alpha/admin/privacy/", data={"q": "quatremare"})
    assert found.status_code == 200 and "QuatremarePG" in found.get_data(as_text=True)
    page = client.get(f"/t/alpha/admin/privacy/persons/{p.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<h1>Données personnelles de ZéphyrinePG" in html
    assert "Entretiens" in html and "export.pdf" in html
    reads = _actions(session, in_tenant, tenant, "person.read")
    assert [r.object_id for r in reads] == [str(p.id)]
    assert _actions(session, in_tenant, tenant, "person.search")[0].detail == {
        "results": 1, "ids": [str(p.id)]}  # the people shown, never the name searched
    case_page = client.get(f"/t/alpha/cases/{case.id}").get_data(as_text=True)
    assert f"/t/alpha/admin/privacy/persons/{p.id}" in case_page


def test_rectification_changes_the_identity_and_audits_field_names(person, client, login,
                                                                   users, session, tenant,
                                                                   in_tenant):
    p, _case, _texts = person
    login(client, users["manager"])
    form = {"last_name": "Quatremare-Dupont", "first_name": "ZéphyrinePG",
            "birth_date": "1984-09-30", "phone": "0700000000", "email": "z@exemple.test",
            "address": "1 place du Capitole", "postal_code": "31000", "city": "Toulouse"}
    answer = client.post(f"/t/alpha/admin/privacy/persons/{p.id}/rectify", data=form)
    assert answer.status_code == 302
    with in_tenant(tenant):
        session.expire_all()
        fresh = session.get(Person, (tenant.id, p.id))
        assert (fresh.last_name, fresh.phone) == ("Quatremare-Dupont", "0700000000")
    event = _actions(session, in_tenant, tenant, "person.rectify")[0]
    assert set(event.detail["fields"]) == {"last_name", "phone", "email", "address"}
    assert "0700000000" not in str(event.detail)


def test_rectification_refuses_bad_input_with_field_errors(person, client, login, users):
    p, _case, _texts = person
    login(client, users["manager"])
    answer = client.post(f"/t/alpha/admin/privacy/persons/{p.id}/rectify",
                         data={"last_name": "", "first_name": "A", "birth_date": "2019-02-30",
                               "email": "pas-une-adresse"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'aria-describedby="birth_date-erreur"' in html and "Nom : obligatoire." in html


def test_erasure_anonymises_now(person, client, login, users, session, tenant, in_tenant,
                                ccas_database):
    p, _case, texts = person
    login(client, users["manager"])
    base = f"/t/alpha/admin/privacy/persons/{p.id}"
    assert client.post(f"{base}/erase", data={}).status_code == 400  # not confirmed
    answer = client.post(f"{base}/erase", data={"confirm": "yes"})
    assert answer.status_code == 302
    with in_tenant(tenant):
        session.expire_all()
        fresh = session.get(Person, (tenant.id, p.id))
        assert fresh.first_name == ANONYMISED and fresh.anonymised_at is not None
    assert scan(ccas_database, texts, date(1984, 9, 30)) == []


def test_erasure_is_refused_while_a_loan_is_open(app, client, login, users, session, tenant,
                                                 in_tenant, enable_plugin, ccas_database):
    enable_plugin(tenant, "credit_municipal")
    with in_tenant(tenant):
        p, _case, texts = populate(session, users["social_worker"], "LOAN",
                                   birth=date(1980, 1, 9), intake=date(2024, 3, 8),
                                   last_contact=clock.now(), case_state="repaying",
                                   loan_status="repaying")
        session.commit()
    login(client, users["manager"])
    base = f"/t/alpha/admin/privacy/persons/{p.id}"
    page = client.get(base).get_data(as_text=True)
    assert "Effacement impossible pour le moment" in page
    answer = client.post(f"{base}/erase", data={"confirm": "yes"})
    assert answer.status_code == 409
    assert "un prêt est en cours" in answer.get_data(as_text=True)
    assert "persons.first_name" in scan(ccas_database, texts, date(1980, 1, 9))
    assert _actions(session, in_tenant, tenant, "person.erase_refused")


@pytest.mark.parametrize("role", ["secretary", "social_worker", "lender_agent"])
def test_staff_other_than_the_manager_get_no_privacy_pages(person, client, login, users,
                                                            role):
    p, case, _texts = person
    login(client, users[role])
    assert client.get(f"/t/alpha/admin/privacy/persons/{p.id}").status_code in (403, 404)
    assert client.post(f"/t/alpha/admin/privacy/persons/{p.id}/erase",
                       data={"confirm": "yes"}).status_code in (403, 404)


# -- a person known only through partners' referrals ---------------------------------------

REFERRED_BIRTH = date(1987, 10, 4)


def refer_only(session, tenant, users, make_user, enable_plugin, in_tenant):
    """Two people only ever referred (three referrals each, see
    ``tests.test_privacy_purge.refer_without_case``): ``(referrals, texts)`` of the first
    (born 04/10/1987, CAF number 2468013) and of the second (born 05/05/1975)."""
    from core import accounts

    enable_plugin(tenant, "caf")
    with in_tenant(tenant):
        caf = accounts.create_organisation(session, CAF, "aid_fund", plugin_name="caf")
        caf.webhook_url = "https://caf.exemple.test/orientations"
        session.commit()
    caf_agent = make_user(tenant, "referrer", org=CAF, org_kind="aid_fund")
    now = clock.now()
    with in_tenant(tenant):
        one = refer_without_case(session, tenant, users, caf_agent, "PRV",
                                 at=now - timedelta(days=90), birth=REFERRED_BIRTH,
                                 allocataire="2468013")
        two = refer_without_case(session, tenant, users, caf_agent, "AUT",
                                 at=now - timedelta(days=60), birth=date(1975, 5, 5),
                                 allocataire="1357913")
        session.commit()
    return one, two


@pytest.fixture
def referred_only(app, session, tenant, users, make_user, enable_plugin, in_tenant):
    return refer_only(session, tenant, users, make_user, enable_plugin, in_tenant)


def test_search_finds_a_person_only_ever_referred_by_name_and_birth_date(
        referred_only, client, login, users, session, tenant, in_tenant):
    (refs, _texts), _other = referred_only
    login(client, users["manager"])
    for q in ("brisemicheprv", "AnatoliePRV", "04/10/1987", "1987-10-04"):
        html = client.post("/t/alpha/admin/privacy/", data={"q": q}).get_data(as_text=True)
        assert "BrisemichePRV AnatoliePRV" in html, q
        assert "BrisemicheAUT" not in html, q
        # One line for the person's three referrals, linking to their pages.
        assert html.count("/t/alpha/admin/privacy/referrals/") == 1, q
        assert any(f"/t/alpha/admin/privacy/referrals/{r.id}" in html for r in refs), q
    searches = _actions(session, in_tenant, tenant, "person.search")
    assert [e.detail for e in searches] == [{"results": 1, "ids": []}] * 4


def test_the_referred_persons_page_lists_their_referrals_and_audits_each_read(
        referred_only, client, login, users, session, tenant, in_tenant):
    (refs, _texts), _other = referred_only
    login(client, users["manager"])
    page = client.get(f"/t/alpha/admin/privacy/referrals/{refs[0].id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1>Données personnelles de AnatoliePRV BrisemichePRV</h1>" in html
    for referral in refs:
        assert referral.reference in html
    assert "Pièces jointes des orientations" in html and "export.pdf" in html
    assert 'id="extra-allocataire_number"' in html and 'value="2468013"' in html
    reads = _actions(session, in_tenant, tenant, "referral.read")
    assert sorted(e.object_id for e in reads) == sorted(str(r.id) for r in refs)
    assert all(e.detail == {"page": "privacy"} for e in reads)


def test_rectifying_a_referral_changes_its_fields_and_audits_field_names(
        referred_only, client, login, users, session, tenant, in_tenant):
    (refs, _texts), _other = referred_only
    to_caf = refs[0]
    before = to_caf.updated_at
    login(client, users["manager"])
    form = {"last_name": "BrisemichePRV", "first_name": "AnatoliePRV",
            "birth_date": "1987-10-05", "phone": "0699887766", "email": "a.prv@exemple.test",
            "note": "Note rectifiée.", "extra-allocataire_number": "1112223",
            "extra-family_quotient": "612"}
    answer = client.post(f"/t/alpha/admin/privacy/referrals/{to_caf.id}/rectify", data=form)
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/admin/privacy/referrals/{to_caf.id}")
    with in_tenant(tenant):
        session.expire_all()
        fresh = session.get(Referral, (tenant.id, to_caf.id))
        assert (fresh.birth_date, fresh.phone, fresh.email, fresh.note) == \
            (date(1987, 10, 5), "0699887766", "a.prv@exemple.test", "Note rectifiée.")
        assert fresh.extra == {"allocataire_number": "1112223", "family_quotient": 612}
        assert fresh.updated_at > before
        # The other referrals are the referrer's own record: untouched.
        assert session.get(Referral, (tenant.id, refs[1].id)).phone == "07PRV5544"
    event = _actions(session, in_tenant, tenant, "referral.rectify")[0]
    assert event.object_id == str(to_caf.id)
    assert set(event.detail["fields"]) == {"birth_date", "phone", "email", "note",
                                           "extra.allocataire_number"}
    assert "0699887766" not in str(event.detail) and "1112223" not in str(event.detail)
    again = client.post(f"/t/alpha/admin/privacy/referrals/{to_caf.id}/rectify", data=form)
    assert again.status_code == 302
    assert len(_actions(session, in_tenant, tenant, "referral.rectify")) == 1


def test_referral_rectification_refuses_bad_input_with_field_errors(
        referred_only, client, login, users, session, tenant, in_tenant):
    (refs, _texts), _other = referred_only
    login(client, users["manager"])
    answer = client.post(f"/t/alpha/admin/privacy/referrals/{refs[0].id}/rectify",
                         data={"last_name": "", "first_name": "A", "birth_date": "1987-02-30",
                               "email": "pas-une-adresse", "extra-allocataire_number": "12"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "Nom : obligatoire." in html and 'aria-describedby="birth_date-erreur"' in html
    assert 'aria-describedby="extra-allocataire_number-erreur"' in html
    assert "7 chiffres attendus" in html
    with in_tenant(tenant):
        session.expire_all()
        assert session.get(Referral, (tenant.id, refs[0].id)).extra["allocataire_number"] \
            == "2468013"
    assert _actions(session, in_tenant, tenant, "referral.rectify") == []


def test_erasing_a_person_only_ever_referred_leaves_none_of_their_values(
        referred_only, client, login, users, session, tenant, in_tenant, ccas_database):
    (refs, texts), (other_refs, other_texts) = referred_only
    assert "referrals.first_name" in scan(ccas_database, texts, REFERRED_BIRTH)
    login(client, users["manager"])
    base = f"/t/alpha/admin/privacy/referrals/{refs[1].id}"
    assert client.get(base).status_code == 200  # a read, then the erasure
    assert client.post(f"{base}/erase", data={}).status_code == 400  # not confirmed
    answer = client.post(f"{base}/erase", data={"confirm": "yes"})
    assert answer.status_code == 302
    assert scan(ccas_database, texts, REFERRED_BIRTH) == []
    # The other person only ever referred keeps everything, wherever it was.
    kept = scan(ccas_database, other_texts, date(1975, 5, 5))
    for place in ("referrals.first_name", "referrals.birth_date", "referrals.extra",
                  "referral_status_changes.message", "referral_attachments.content",
                  "outbox_messages.payload", "audit_events.detail"):
        assert place in kept
    with in_tenant(tenant):
        session.expire_all()
        for referral in refs:
            row = session.get(Referral, (tenant.id, referral.id))
            assert row.first_name == row.last_name == ANONYMISED
            assert (row.birth_date, row.phone, row.email, row.note, row.extra) == \
                (None, None, None, "", {})
    done = _actions(session, in_tenant, tenant, "referral.anonymise")
    assert sorted(e.object_id for e in done) == sorted(str(r.id) for r in refs)
    assert all(e.detail["reason"] == "erasure" and e.actor.startswith("user:")
               for e in done)
    page = client.get(base).get_data(as_text=True)
    assert f"<h1>Orientation {refs[1].reference} (anonymisée)</h1>" in page
    assert "Orientation anonymisée." in page and "Effacer (anonymiser)" not in page
    assert client.post(f"{base}/rectify", data={"last_name": "X", "first_name": "Y"}) \
        .status_code == 409


def test_a_referral_of_a_followed_person_sends_to_the_person_and_refuses_erasure(
        app, client, login, users, session, tenant, in_tenant, enable_plugin, ccas_database):
    """The referral that opened a case with an open loan: the person's route applies, and
    the legal reason to keep the data is told."""
    enable_plugin(tenant, "credit_municipal")
    with in_tenant(tenant):
        p, case, texts = populate(session, users["social_worker"], "RLOAN",
                                  birth=date(1981, 2, 3), intake=date(2024, 3, 8),
                                  last_contact=clock.now(), case_state="repaying",
                                  loan_status="repaying")
        session.commit()
        referral = session.scalar(select(Referral).where(Referral.case_id == case.id))
    login(client, users["manager"])
    base = f"/t/alpha/admin/privacy/referrals/{referral.id}"
    page = client.get(base)
    assert page.status_code == 302
    assert page.headers["Location"].endswith(f"/admin/privacy/persons/{p.id}")
    assert client.get(f"{base}/export.json").headers["Location"].endswith(
        f"/admin/privacy/persons/{p.id}/export.json")
    answer = client.post(f"{base}/erase", data={"confirm": "yes"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "depuis la page de la personne" in html and "un prêt est en cours" in html
    assert f"/t/alpha/admin/privacy/persons/{p.id}" in html
    assert client.post(f"{base}/rectify", data={"last_name": "X", "first_name": "Y"}) \
        .status_code == 409
    assert "referrals.first_name" in scan(ccas_database, texts, date(1981, 2, 3))
    refused = _actions(session, in_tenant, tenant, "referral.erase_refused")
    assert [e.object_id for e in refused] == [str(referral.id)]
    assert "un prêt est en cours" in refused[0].detail["reason"]


def test_another_tenants_referral_is_not_found(referred_only, client, login, users, session,
                                               other_tenant, make_user, in_tenant):
    from core import referrals

    partner = make_user(other_tenant, "referrer", org="Association bêta",
                        org_kind="association")
    with in_tenant(other_tenant):
        theirs = referrals.submit(session, partner, referrals.ReferralInput(
            first_name="Octave", last_name="Bêtaville", birth_date=date(1970, 4, 4),
            purpose="mobility", amount_requested="500", consent=True, phone="0600000001"),
            tenant=other_tenant)
        session.commit()
    login(client, users["manager"])
    base = f"/t/alpha/admin/privacy/referrals/{theirs.id}"
    for path in ("", "/export.json", "/export.pdf"):
        assert client.get(base + path).status_code == 404, path
    for path in ("/rectify", "/erase"):
        assert client.post(base + path, data={"confirm": "yes", "last_name": "X",
                                              "first_name": "Y"}).status_code == 404, path
    with in_tenant(other_tenant):
        session.expire_all()
        assert session.get(Referral, (other_tenant.id, theirs.id)).first_name == "Octave"


@pytest.mark.parametrize("role", ["secretary", "social_worker", "lender_agent", "referrer",
                                  "funder"])
def test_only_the_manager_gets_a_referred_persons_pages(referred_only, client, login, users,
                                                        role):
    (refs, _texts), _other = referred_only
    login(client, users[role])
    base = f"/t/alpha/admin/privacy/referrals/{refs[0].id}"
    for path in ("", "/export.json", "/export.pdf"):
        assert client.get(base + path).status_code == 403, path
    assert client.post(f"{base}/erase", data={"confirm": "yes"}).status_code == 403


def test_a_name_searched_for_never_travels_in_a_url(person, client, login, users):
    """Issue 18, finding 6: the search is a POST; a name in a GET URL is not searched."""
    login(client, users["manager"])
    page = client.get("/t/alpha/admin/privacy/").get_data(as_text=True)
    assert 'method="post"' in page and 'name="csrf_token"' in page
    ignored = client.get("/t/alpha/admin/privacy/?q=quatremare").get_data(as_text=True)
    assert "QuatremarePG" not in ignored
