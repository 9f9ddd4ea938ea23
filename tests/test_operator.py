"""Platform-operator pages: create a tenant, enable a plugin."""

from __future__ import annotations

from sqlalchemy import select

from core import plugins
from core.models import Organisation, Tenant


def test_operator_creates_a_tenant_and_enables_a_plugin(client, operator, login, session,
                                                        in_tenant):
    login(client, operator)
    r = client.post("/operator/", data={"slug": "lyon", "name": "CCAS de Lyon", "city": "Lyon",
                                        "timezone": "Europe/Paris"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/operator/tenants/lyon")
    page = client.get("/operator/tenants/lyon").get_data(as_text=True)
    assert "Crédit Municipal" in page
    r = client.post("/operator/tenants/lyon", data={"plugin": "caf", "action": "enable"})
    assert r.status_code == 302
    lyon = session.scalars(select(Tenant).where(Tenant.slug == "lyon")).one()
    with in_tenant(lyon):
        assert plugins.enabled_plugins() == frozenset({"caf"})
        assert session.scalars(select(Organisation.name)).all() == ["CCAS de Lyon"]


def test_duplicate_or_bad_slug_is_shown_on_the_form(client, operator, login, tenant):
    login(client, operator)
    r = client.post("/operator/", data={"slug": "alpha", "name": "X", "timezone": "Europe/Paris"})
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "existe déjà" in body and 'aria-invalid="true"' in body
    r = client.post("/operator/", data={"slug": "Bad Slug", "name": "X"})
    assert r.status_code == 422 and "Identifiant invalide" in r.get_data(as_text=True)


def test_unknown_plugin_on_operator_page_is_404(client, operator, login, tenant):
    login(client, operator)
    r = client.post("/operator/tenants/alpha", data={"plugin": "nope", "action": "enable"})
    assert r.status_code == 404


def test_tenant_users_cannot_reach_operator_pages(client, users, login):
    login(client, users["manager"])
    r = client.get("/operator/")
    assert r.status_code == 302 and "/operator/login" in r.headers["Location"]


def test_operator_cannot_use_tenant_pages(client, operator, login, tenant):
    login(client, operator)
    assert client.get("/t/alpha/").status_code == 302
