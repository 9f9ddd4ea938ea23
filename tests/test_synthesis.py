"""The synthesis: dated, versioned, written by the social workers, on the file summary
and its PDF, read by the lender only once the file is theirs."""

from __future__ import annotations

from datetime import date

import pytest

from core import cases
from core.cases import file_summary, synthesis
from core.errors import UserError
from core.models import Case

TEXT = {"request": "Achat d'une voiture pour un CDI à 30 km.",
        "project": "Véhicule d'occasion, devis de 2 800 €.",
        "resources": "Salaire 1 450 €, loyer 520 €.", "prospects": "CDI confirmé en mars."}


@pytest.fixture
def case(app, tenant, session, in_tenant):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Léa", "Martin",
                                                               date(1990, 4, 2)))
        c = cases.open_case(session, person, "mobility", "2800", tenant=tenant)
        session.commit()
        return c


def test_each_save_is_a_new_dated_version(case, session, tenant, in_tenant, users, clock):
    with in_tenant(tenant):
        c = session.get(Case, (tenant.id, case.id))
        first = synthesis.write(session, c, TEXT, users["social_worker"])
        with pytest.raises(UserError, match="n'a pas changé"):
            synthesis.write(session, c, TEXT, users["social_worker"])
        clock.travel_to("2026-11-20T09:00")
        second = synthesis.write(session, c, {**TEXT, "prospects": "CDI signé."},
                                 users["social_worker"])
        session.commit()
        assert (first.number, second.number) == (1, 2)
        assert [v.number for v in synthesis.versions(session, c)] == [2, 1]
        summary = file_summary.build(session, c, tenant)
    number, written_at, parts = summary.synthesis
    assert number == 2 and written_at.date() == date(2026, 11, 20)
    assert ("Les perspectives", "CDI signé.") in parts
    pdf = file_summary.render_pdf(summary)
    assert pdf.startswith(b"%PDF")


def test_only_social_workers_write_and_something_must_be_written(case, session, tenant,
                                                                 in_tenant, users):
    with in_tenant(tenant):
        c = session.get(Case, (tenant.id, case.id))
        with pytest.raises(UserError) as err:
            synthesis.write(session, c, TEXT, users["secretary"])
        assert err.value.status == 403
        with pytest.raises(UserError, match="au moins une partie"):
            synthesis.write(session, c, {}, users["social_worker"])


def test_synthesis_pages(client, login, users, case, session, tenant, in_tenant):
    login(client, users["social_worker"])
    form = client.get(f"/t/alpha/cases/{case.id}/synthesis/")
    assert form.status_code == 200 and 'for="prospects"' in form.get_data(as_text=True)
    bad = client.post(f"/t/alpha/cases/{case.id}/synthesis/", data={})
    assert bad.status_code == 422 and 'id="request-erreur"' in bad.get_data(as_text=True)
    ok = client.post(f"/t/alpha/cases/{case.id}/synthesis/", data=TEXT)
    assert ok.status_code == 302
    page = client.get(f"/t/alpha/cases/{case.id}").get_data(as_text=True)
    assert "Synthèse de la situation" in page and "CDI confirmé en mars." in page
    login(client, users["secretary"])
    assert client.get(f"/t/alpha/cases/{case.id}/synthesis/").status_code == 403
    login(client, users["lender_agent"])
    assert client.get(f"/t/alpha/cases/{case.id}").status_code == 404


def test_the_panel_names_each_versions_author_by_name(client, login, users, case, session,
                                                      tenant, in_tenant):
    """The case page's synthesis names who wrote each version by their full name, as the
    interviews do; the e-mail only for a user without a name, or a version whose author
    is not a user any more (the e-mail it was signed with)."""
    from core.models import User

    worker, manager = users["social_worker"], users["manager"]
    with in_tenant(tenant):
        c = session.get(Case, (tenant.id, case.id))
        synthesis.write(session, c, TEXT, worker)
        second = synthesis.write(session, c, {**TEXT, "prospects": "CDI signé."}, manager)
        session.flush()
        second.written_by_id = None  # its author's account is gone: the signed e-mail
        synthesis.write(session, c, {**TEXT, "prospects": "Permis obtenu."}, worker)
        session.commit()
    login(client, users["social_worker"])
    page = client.get(f"/t/alpha/cases/{case.id}").get_data(as_text=True)
    panel = page.split('id="synthese-titre"')[1].split("</section>")[0]
    assert f"par {worker.full_name}</p>" in panel  # version 3, the newest
    assert "Version 2, " in panel and f"par {manager.email}</h3>" in panel
    assert f"par {worker.full_name}</h3>" in panel  # version 1
    assert worker.email not in panel
    with in_tenant(tenant):
        session.get(User, (tenant.id, worker.id)).full_name = ""
        session.commit()
    panel = client.get(f"/t/alpha/cases/{case.id}").get_data(as_text=True).split(
        'id="synthese-titre"')[1].split("</section>")[0]
    assert f"par {worker.email}</p>" in panel
