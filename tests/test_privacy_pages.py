"""The manager's RGPD pages: find a person (audited), see what is held (``person.read``),
rectify the identity (audited, field names only), erase now, or be told why not (an open
loan); the case page links there for the manager only."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from core.models import AuditEvent, Person
from core.privacy.registry import ANONYMISED
from tests.test_privacy_purge import populate, scan


@pytest.fixture
def person(app, session, tenant, users, in_tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")
    with in_tenant(tenant):
        out = populate(session, users["social_worker"], "PG", birth=date(1984, 9, 30),
                       intake=date(2024, 3, 8), last_contact=datetime.now(UTC))
        session.commit()
    return out


def _actions(session, in_tenant, tenant, action):
    with in_tenant(tenant):
        return session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_search_and_person_page_are_audited(person, client, login, users, session, tenant,
                                            in_tenant):
    p, case, _texts = person
    login(client, users["manager"])
    found = client.get("/t/alpha/admin/privacy/?q=quatremare")
    assert found.status_code == 200 and "QuatremarePG" in found.get_data(as_text=True)
    page = client.get(f"/t/alpha/admin/privacy/persons/{p.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<h1>Données personnelles de ZéphyrinePG" in html
    assert "Entretiens" in html and "export.pdf" in html
    reads = _actions(session, in_tenant, tenant, "person.read")
    assert [r.object_id for r in reads] == [str(p.id)]
    assert _actions(session, in_tenant, tenant, "person.search")[0].detail == {"results": 1}
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
                                   last_contact=datetime.now(UTC), case_state="repaying",
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
