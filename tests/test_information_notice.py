"""The applicant's information: the notice given at intake (version and day recorded on
the case, printable), and the record of processing (RGPD article 30) from the registry."""

from __future__ import annotations

from datetime import date

import pytest

from core import cases
from core.models import Case
from core.privacy import notice
from core.privacy.registry import descriptors


@pytest.fixture
def case(app, tenant, session, in_tenant):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Léa", "Martin",
                                                               date(1990, 4, 2)))
        c = cases.open_case(session, person, "mobility", "1500", tenant=tenant)
        session.commit()
        return c


def test_the_notice_names_the_lender_the_retention_and_the_rights(app, tenant, session,
                                                                  in_tenant, users):
    with in_tenant(tenant):
        text = notice.notice(session, tenant)
    body = " ".join(text.paragraphs)
    assert text.version == notice.VERSION
    assert "Crédit Municipal" in body and "24 mois" in body and "CNIL" in body


def test_a_tenant_may_give_its_own_notice(app, tenant, session, in_tenant):
    with in_tenant(tenant):
        tenant.settings = {"privacy": {"notice": {"version": "ccas-3", "paragraphs": ["A."]}}}
        assert notice.notice(session, tenant).paragraphs == ["A."]
        assert notice.notice_version(tenant) == "ccas-3"


def test_giving_the_notice_is_recorded_on_the_case(client, login, users, case, session,
                                                   tenant, in_tenant):
    login(client, users["secretary"])
    page = client.get(f"/t/alpha/cases/{case.id}").get_data(as_text=True)
    assert "pas encore été remise" in page
    printable = client.get(f"/t/alpha/cases/{case.id}/notice/")
    assert printable.status_code == 200 and "Vos données personnelles" in printable.get_data(
        as_text=True)
    assert client.post(f"/t/alpha/cases/{case.id}/notice/",
                       data={"notice_given_on": "2026-11-16"}).status_code == 302
    session.expire_all()
    with in_tenant(tenant):
        row = session.get(Case, (tenant.id, case.id))
        assert (row.notice_version, row.notice_given_on) == (notice.VERSION,
                                                             date(2026, 11, 16))
    page = client.get(f"/t/alpha/cases/{case.id}").get_data(as_text=True)
    assert f"remise le 16/11/2026 (version {notice.VERSION})" in page


def test_record_of_processing_lists_every_category_with_its_fate(app, tenant, client, login,
                                                                 users):
    with app.app_context():
        record = notice.processing_record(tenant, descriptors())
    categories = {line["category"]: line for line in record["categories"]}
    assert "Pièces déposées" in categories and "Membres du foyer" in categories
    assert categories["Pièces déposées"]["at_purge"] == {"Fichier": "supprimé"}
    assert "24 mois" in categories["Identité"]["retention"]
    login(client, users["manager"])
    page = client.get("/t/alpha/admin/privacy/registre")
    assert page.status_code == 200 and "Registre des traitements" in page.get_data(
        as_text=True)
    assert client.get("/t/alpha/admin/privacy/registre.json").get_json()[
        "retention_months"] == 24
    login(client, users["secretary"])
    assert client.get("/t/alpha/admin/privacy/registre").status_code == 403
