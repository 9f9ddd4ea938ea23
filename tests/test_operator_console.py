"""The operator console: tenants suspended and resumed, platform health, usage per tenant
and the cross-city comparison of the consenting tenants (small counts suppressed, each
tenant computed in its own scope). CSRF protection on."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from core import accounts, clock, outbox, platform_status
from core.models import AuditEvent, OutboxMessage, OutboxStatus
from core.reports import comparison

from .test_administration import Forms
from .test_reports import _bulk_cases


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def console(client, operator):
    forms = Forms(client)
    r = forms.post("/operator/login", {"email": operator.email,
                                       "password": "Test-password-2026!"})
    assert r.status_code == 302
    forms._csrf = None  # the session was renewed at sign-in: read a new token
    return forms


def test_console_pages_are_for_operators_only(client, users, tenant):
    manager = Forms(client)
    manager.login(users["manager"])
    for url in ("/operator/health", "/operator/usage", "/operator/comparison"):
        r = client.get(url)
        assert r.status_code in (302, 403), url


def test_health_shows_database_migrations_outbox_and_no_worker_yet(console, tenant, session,
                                                                    in_tenant):
    with in_tenant(tenant):
        outbox.enqueue_email(session, "a@example.org", "Sujet", "Texte")
        dead = outbox.enqueue_email(session, "b@example.org", "Sujet", "Texte")
        dead.status = OutboxStatus.dead
        session.commit()
    page = unescape(console.get("/operator/health").get_data(as_text=True))
    assert "Joignable" in page and "À jour (toutes les migrations sont appliquées)" in page
    assert "1 message en attente d'envoi" in page
    assert "1 message abandonné après le dernier essai" in page
    assert "Aucun worker n'a encore tourné" in page


def test_health_shows_the_workers_heartbeat_and_the_jobs_last_runs(console, session):
    from core.models import JobRun, WorkerHeartbeat

    now = clock.now()
    session.add(WorkerHeartbeat(worker="hote:1234", started_at=now, seen_at=now,
                                current_job=""))
    session.add(JobRun(job="outbox_drain", slot=now, worker="hote:1234", started_at=now,
                       finished_at=now, status="ok"))
    session.commit()
    page = unescape(console.get("/operator/health").get_data(as_text=True))
    assert "hote:1234" in page and "Actif" in page
    assert "outbox_drain" in page and "Réussie" in page
    assert "Aucun worker" not in page


def test_usage_counts_each_tenant_in_its_own_scope(console, users, make_tenant, make_user,
                                                   session, client, in_tenant):
    beta = make_tenant("beta")
    make_user(beta, "secretary")
    Forms(client.application.test_client()).login(users["secretary"])  # a sign-in in alpha
    alpha = _tenant(session, "alpha")
    with in_tenant(alpha):
        _bulk_cases(session, alpha, 2025, {"mobility": 7}, 0, 0)
    figures = {f.tenant.slug: f for f in platform_status.all_tenant_figures(session)}
    assert (figures["alpha"].cases, figures["beta"].cases) == (7, 0)
    assert figures["alpha"].active_users == 1 and figures["beta"].accounts == 1
    page = console.get("/operator/usage").get_data(as_text=True)
    assert "<h1>Utilisation par territoire</h1>" in page and "CCAS Beta" in page


def _tenant(session, slug):
    from core.models import Tenant

    return session.scalars(select(Tenant).where(Tenant.slug == slug)).one()


def test_operator_suspends_then_resumes_a_tenant(console, users, client, api_token, session,
                                                 in_tenant, tenant):
    token = api_token(users["manager"])
    manager = Forms(client.application.test_client())
    manager.login(users["manager"])
    r = console.post("/operator/tenants/alpha/status", {"action": "suspend"},
                     page="/operator/tenants/alpha")
    assert r.status_code == 302
    assert "Suspendu depuis le" in console.get("/operator/tenants/alpha").get_data(as_text=True)
    page = manager.client.get("/t/alpha/")
    assert page.status_code == 403 and "suspendu" in unescape(page.get_data(as_text=True))
    assert client.application.test_client().get("/t/alpha/login").status_code == 403
    api = client.application.test_client().get("/api/v1/me",
                                               headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 403 and "suspendu" in api.get_json()["detail"]
    r = console.post("/operator/tenants/alpha/status", {"action": "resume"})
    assert r.status_code == 302
    assert manager.client.get("/t/alpha/").status_code == 200
    with in_tenant(tenant):
        actions = session.scalars(select(AuditEvent.action)).all()
    assert {"tenant.suspend", "tenant.resume"} <= set(actions)


def test_comparison_shows_consenting_tenants_side_by_side_with_small_counts_hidden(
        console, tenant, make_tenant, session, in_tenant):
    year = clock.today().year - 1
    beta = make_tenant("beta")
    gamma = make_tenant("gamma")
    for t, purposes, instructed, granted in ((tenant, {"mobility": 30, "housing": 10}, 20, 8),
                                             (beta, {"mobility": 3}, 1, 1),
                                             (gamma, {"mobility": 50}, 10, 5)):
        with in_tenant(t):
            _bulk_cases(session, t, year, purposes, instructed, granted)
    page = unescape(console.get("/operator/comparison").get_data(as_text=True))
    assert "Aucune ville ne participe" in page
    comparison.set_consent(session, tenant, True)
    comparison.set_consent(session, beta, True)
    session.commit()
    compared = {e["tenant"].slug: e["figures"] for e in comparison.compare(session, year)}
    assert set(compared) == {"alpha", "beta"}  # gamma did not consent
    assert compared["alpha"]["requests"] == 40 and compared["alpha"]["grant_rate"] == 20.0
    assert compared["alpha"]["purposes"]["mobility"] == 75.0
    assert compared["beta"]["requests"] == "< 5" and compared["beta"]["grant_rate"] == "masqué"
    page = unescape(console.get(f"/operator/comparison?year={year}").get_data(as_text=True))
    assert "CCAS Alpha" in page and "CCAS Beta" in page and "CCAS Gamma" not in page
    assert "20,0\u00a0%" in page and "< 5" in page and "masqué" in page
    assert "Objet : Mobilité" in page


def test_consent_is_off_by_default_and_audited(app, tenant, session, in_tenant):
    assert not comparison.consents(tenant)
    comparison.set_consent(session, tenant, True)
    session.commit()
    assert comparison.consents(tenant)
    with in_tenant(tenant):
        assert "tenant.comparison_consent" in session.scalars(select(AuditEvent.action)).all()


def test_suspension_service_refuses_nothing_twice(app, tenant, session):
    assert accounts.set_suspended(session, tenant, True)
    assert not accounts.set_suspended(session, tenant, True)
    assert accounts.set_suspended(session, tenant, False)
    session.commit()


def test_outbox_dead_letters_are_counted_per_tenant(app, tenant, make_tenant, session,
                                                    in_tenant):
    beta = make_tenant("beta")
    with in_tenant(beta):
        outbox.enqueue_email(session, "x@example.org", "S", "T").status = OutboxStatus.dead
        session.commit()
    figures = {f.tenant.slug: f for f in platform_status.all_tenant_figures(session)}
    assert (figures["alpha"].outbox_dead, figures["beta"].outbox_dead) == (0, 1)
    with in_tenant(tenant):
        assert session.scalars(select(OutboxMessage)).all() == []


def test_operator_opens_a_city_and_invites_its_manager(console, session, in_tenant):
    r = console.post("/operator/", {"slug": "lyon", "name": "CCAS de Lyon", "city": "Lyon",
                                    "timezone": "Europe/Paris",
                                    "manager_email": "Responsable@Lyon.fr"})
    assert r.status_code == 302
    lyon = _tenant(session, "lyon")
    with in_tenant(lyon):
        from core.models import User

        manager = session.scalars(select(User)).one()
        assert (manager.email, manager.role, manager.organisation.name) == (
            "responsable@lyon.fr", "manager", "CCAS de Lyon")
        message = session.scalars(select(OutboxMessage)).one()
        assert "/t/lyon/password/reset/" in message.payload["text"]


def test_a_bad_manager_address_creates_nothing(console, session):
    r = console.post("/operator/", {"slug": "lyon", "name": "CCAS de Lyon", "city": "Lyon",
                                    "timezone": "Europe/Paris", "manager_email": "nope"})
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert 'id="manager_email-erreur"' in body and "Adresse e-mail invalide" in body
    from core.models import Tenant

    assert session.scalars(select(Tenant.slug).where(Tenant.slug == "lyon")).all() == []


def test_cli_tenant_create_invites_the_manager(ccas, session, in_tenant):
    r = ccas("tenant", "create", "nantes", "--name", "CCAS de Nantes", "--city", "Nantes",
             "--manager-email", "chef@nantes.fr")
    assert r.exit_code == 0 and "Invitation envoyée au responsable chef@nantes.fr" in r.output
    nantes = _tenant(session, "nantes")
    with in_tenant(nantes):
        assert session.scalars(select(OutboxMessage.recipient)).all() == ["chef@nantes.fr"]


def test_cli_suspends_and_resumes_a_tenant_with_the_same_service(ccas, tenant, session):
    r = ccas("tenant", "suspend", "alpha")
    assert r.exit_code == 0 and "Territoire alpha suspendu." in r.output
    assert "déjà suspendu" in ccas("tenant", "suspend", "alpha").output
    session.expire_all()
    assert _tenant(session, "alpha").suspended_at is not None
    r = ccas("tenant", "resume", "alpha")
    assert r.exit_code == 0 and "Territoire alpha rétabli." in r.output


def test_cli_token_list_shows_the_last_use(ccas, users, api_token, client):
    token = api_token(users["manager"])
    assert "jamais utilisé" in ccas("token", "list", "--tenant", "alpha").output
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    out = ccas("token", "list", "--tenant", "alpha").output
    assert f"utilisé le {clock.today().strftime('%d/%m/%Y')}" in out
