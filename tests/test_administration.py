"""The manager's administration (organisations, accounts, API tokens, comparison consent)
and the ``ccas`` commands: one set of services for both, same rules, same French errors.
Forms are posted with CSRF protection on."""

from __future__ import annotations

import re

import pytest
from flask import current_app
from sqlalchemy import select

from core import accounts
from core.accounts import invitations, password_reset, totp
from core.errors import UserError
from core.models import ApiToken, AuditEvent, Organisation, OutboxMessage, User
from core.testing.pytest_plugin import TEST_PASSWORD

NEW_PASSWORD = "Un-nouveau-mot-de-passe-2026"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


class Forms:
    """A test client that posts forms the way a browser does: with the page's CSRF token."""

    def __init__(self, client):
        self.client = client
        self._csrf = None

    def get(self, url, **kw):
        r = self.client.get(url, **kw)
        body = r.get_data(as_text=True)
        if 'name="csrf_token"' in body:
            self._csrf = _token(body)
        return r

    def post(self, url, data, page=None):
        if self._csrf is None or page is not None:
            self.get(page or url)
        return self.client.post(url, data={**data, "csrf_token": self._csrf})

    def login(self, user, password=TEST_PASSWORD, slug="alpha"):
        r = self.post(f"/t/{slug}/login", {"email": user.email, "password": password})
        assert r.status_code == 302, r.get_data(as_text=True)[:300]
        self._csrf = None
        return r


@pytest.fixture
def forms(client):
    return Forms(client)


@pytest.fixture
def manager(forms, users):
    forms.login(users["manager"])
    return forms


def _get(session, model, ident):
    return session.scalars(select(model).where(model.id == ident)).one()


def _link(session, in_tenant, tenant, email) -> str:
    with in_tenant(tenant):
        message = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == email)
                                  .order_by(OutboxMessage.created_at.desc())).first()
    # the queued text holds a placeholder; the link is made at send time
    text = password_reset.fill_link(current_app.config["SECRET_KEY"], message.payload,
                                    message.payload["text"])
    return re.search(r"http://localhost(/t/\S+/password/reset/\S+)", text).group(1)


# -- services, shared by the CLI and the pages ----------------------------------------------


def test_invite_creates_an_account_without_usable_password_and_mails_a_link(
        app, tenant, session, in_tenant):
    with in_tenant(tenant):
        user = invitations.invite_user(session, tenant, "Nouvelle@Alpha.fr", "secretary",
                                       "CCAS de Alpha", "http://localhost", "Nina Nouvelle")
        session.commit()
        assert user.email == "nouvelle@alpha.fr" and user.role == "secretary"
        message = session.scalars(select(OutboxMessage)).one()
        assert message.recipient == "nouvelle@alpha.fr"
        text = message.payload["text"]
        assert "/t/alpha/password/reset/" in text and "7 jours" in text
        assert "Secrétariat" in text
        actions = session.scalars(select(AuditEvent.action)).all()
        assert {"user.create", "user.invitation"} <= set(actions)


@pytest.mark.parametrize(("email", "role", "org", "expected"), [
    ("pas-une-adresse", "secretary", "CCAS de Alpha", "Adresse e-mail invalide"),
    ("x@alpha.fr", "chef", "CCAS de Alpha", "Rôle inconnu"),
    ("x@alpha.fr", "secretary", "Nulle part", "Organisation inconnue"),
])
def test_invite_refuses_bad_input_in_french_and_writes_nothing(
        app, tenant, session, in_tenant, email, role, org, expected):
    with in_tenant(tenant):
        with pytest.raises(UserError, match=expected):
            invitations.invite_user(session, tenant, email, role, org, "http://localhost")
        session.rollback()
        assert session.scalars(select(OutboxMessage)).all() == []


def test_cli_invite_and_page_invite_follow_the_same_rules(ccas, tenant, users, manager):
    r = ccas("user", "invite", "--tenant", "alpha", "--email", "cli@alpha.fr",
             "--role", "social_worker", "--org", "CCAS de Alpha")
    assert r.exit_code == 0 and "Invitation envoyée à cli@alpha.fr" in r.output
    again = ccas("user", "invite", "--tenant", "alpha", "--email", "cli@alpha.fr",
                 "--role", "social_worker", "--org", "CCAS de Alpha")
    assert again.exit_code == 1 and "Un compte existe déjà pour cli@alpha.fr" in again.output
    page = manager.post("/t/alpha/admin/users", {"email": "cli@alpha.fr", "full_name": "",
                                                 "role": "social_worker",
                                                 "org": "CCAS de Alpha"})
    assert page.status_code == 422
    assert "Un compte existe déjà pour cli@alpha.fr" in page.get_data(as_text=True)


def test_cli_reactivate_and_reset_totp(ccas, users, session, in_tenant, tenant):
    assert ccas("user", "deactivate", "--tenant", "alpha", "--email",
                users["secretary"].email).exit_code == 0
    r = ccas("user", "reactivate", "--tenant", "alpha", "--email", users["secretary"].email)
    assert r.exit_code == 0 and "Compte réactivé" in r.output
    r = ccas("user", "reset-totp", "--tenant", "alpha", "--email", users["secretary"].email)
    assert r.exit_code == 0 and "rien à faire" in r.output
    with in_tenant(tenant):
        user = _get(session, User, users["secretary"].id)
        session.refresh(user)
        assert user.active


def test_a_manager_cannot_deactivate_or_demote_themselves(app, users, session, in_tenant,
                                                         tenant):
    with in_tenant(tenant):
        me = _get(session, User, users["manager"].id)
        with pytest.raises(UserError, match="propre compte"):
            accounts.deactivate_user(session, me, actor=me)
        with pytest.raises(UserError, match="propre rôle"):
            accounts.update_user(session, me, "secretary", "CCAS de Alpha", actor=me)


# -- the pages -----------------------------------------------------------------------------


def test_only_the_manager_reaches_the_administration(client, forms, users):
    for role in ("secretary", "social_worker", "lender_agent", "referrer", "funder"):
        c = Forms(client.application.test_client())
        c.login(users[role])
        for url in ("/t/alpha/admin/users", "/t/alpha/admin/organisations",
                    "/t/alpha/admin/tokens", "/t/alpha/admin/sharing"):
            assert c.client.get(url).status_code == 403, (role, url)


def test_manager_invites_a_user_who_sets_a_password_and_signs_in(
        manager, client, session, in_tenant, tenant, users):
    page = manager.get("/t/alpha/admin/users").get_data(as_text=True)
    assert "<h1>Comptes des utilisateurs</h1>" in page and '<label for="role">Rôle</label>' in page
    r = manager.post("/t/alpha/admin/users", {"email": "invitee@alpha.fr",
                                              "full_name": "Ida Invitée", "role": "secretary",
                                              "org": "CCAS de Alpha"})
    assert r.status_code == 302
    link = _link(session, in_tenant, tenant, "invitee@alpha.fr")
    newcomer = Forms(client.application.test_client())
    assert newcomer.get(link).status_code == 200
    r = newcomer.post(link, {"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert r.status_code == 302
    r = newcomer.post("/t/alpha/login", {"email": "invitee@alpha.fr", "password": NEW_PASSWORD})
    assert r.status_code == 302 and r.headers["Location"].endswith("/t/alpha/")
    assert "invitee@alpha.fr" in manager.get("/t/alpha/admin/users").get_data(as_text=True)


def test_invitation_form_shows_errors_next_to_fields(manager):
    r = manager.post("/t/alpha/admin/users", {"email": "nope", "full_name": "",
                                              "role": "secretary", "org": "CCAS de Alpha"})
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert 'id="email-erreur"' in body and "Adresse e-mail invalide" in body
    assert 'aria-invalid="true"' in body


def test_manager_deactivates_reactivates_and_resets_second_factor(
        manager, users, session, in_tenant, tenant, client):
    secretary = users["secretary"]
    other = Forms(client.application.test_client())
    other.login(secretary)
    with in_tenant(tenant):
        account = _get(session, User, secretary.id)
        totp.pending_secret(session, account)
        cred = totp.credential(session, account)
        from core import clock
        cred.confirmed_at = clock.now()
        session.commit()
    url = f"/t/alpha/admin/users/{secretary.id}"
    page = manager.get(url).get_data(as_text=True)
    assert "Réinitialiser la double authentification" in page
    r = manager.post(f"{url}/action", {"action": "reset_totp"}, page=url)
    assert r.status_code == 302
    r = manager.post(f"{url}/action", {"action": "deactivate"}, page=url)
    assert r.status_code == 302
    assert other.client.get("/t/alpha/").status_code == 302  # signed out
    assert "Désactivé" in manager.get(url).get_data(as_text=True)
    assert manager.post(f"{url}/action", {"action": "reactivate"}, page=url).status_code == 302
    with in_tenant(tenant):
        session.expire_all()
        assert _get(session, User, secretary.id).active
        assert totp.credential(session, _get(session, User, secretary.id)) is None
        actions = session.scalars(select(AuditEvent.action)).all()
        assert {"user.totp_disable", "user.deactivate", "user.reactivate"} <= set(actions)


def test_manager_changes_a_users_role_and_organisation(manager, users, session, in_tenant,
                                                        tenant):
    url = f"/t/alpha/admin/users/{users['social_worker'].id}"
    r = manager.post(url, {"full_name": "Sam", "role": "secretary",
                           "org": "Association partenaire"})
    assert r.status_code == 302
    with in_tenant(tenant):
        user = _get(session, User, users["social_worker"].id)
        session.refresh(user)
        assert user.role == "secretary" and user.organisation.name == "Association partenaire"
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.update")
                                ).one()
        assert event.detail["role"] == ["social_worker", "secretary"]


def test_manager_creates_and_edits_organisations(manager, session, in_tenant, tenant):
    r = manager.post("/t/alpha/admin/organisations", {"name": "Adie Occitanie",
                                                      "kind": "association",
                                                      "plugin": "adie",
                                                      "email": "contact@adie.example"})
    assert r.status_code == 302
    page = manager.get("/t/alpha/admin/organisations").get_data(as_text=True)
    assert "Adie Occitanie" in page and "Association" in page
    with in_tenant(tenant):
        org = session.scalars(select(Organisation).where(
            Organisation.name == "Adie Occitanie")).one()
    url = f"/t/alpha/admin/organisations/{org.id}"
    bad = manager.post(url, {"name": "CCAS de Alpha", "kind": "association", "plugin": "",
                             "email": ""}, page=url)
    assert bad.status_code == 422 and "existe déjà" in bad.get_data(as_text=True)
    bad = manager.post(url, {"name": "Adie", "kind": "association", "plugin": "inconnue",
                             "email": ""})
    assert bad.status_code == 422 and "Extension inconnue" in bad.get_data(as_text=True)
    ok = manager.post(url, {"name": "Adie", "kind": "lender", "plugin": "", "email": ""})
    assert ok.status_code == 302
    with in_tenant(tenant):
        session.expire_all()
        org = _get(session, Organisation, org.id)
        assert (org.name, org.kind, org.plugin_name) == ("Adie", "lender", None)
        assert session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("organisation.%"))).all().count("organisation.update") == 1


def test_tokens_created_on_the_page_work_then_stop_when_revoked(manager, users, client,
                                                               session, in_tenant, tenant):
    referrer = users["referrer"]
    r = manager.post("/t/alpha/admin/tokens", {"user": str(referrer.id),
                                               "name": "Logiciel de l'association",
                                               "expires_days": "30"})
    assert r.status_code == 201
    body = r.get_data(as_text=True)
    value = re.search(r'id="jeton-valeur" type="text" readonly value="([^"]+)"', body).group(1)
    api = client.application.test_client()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {value}"})
    assert me.status_code == 200 and me.get_json()["email"] == referrer.email
    listing = manager.get("/t/alpha/admin/tokens").get_data(as_text=True)
    assert value not in listing  # shown once
    assert "Logiciel de l&#39;association" in listing and "Jamais" not in listing.split(
        "Logiciel de l&#39;association")[1].split("</tr>")[0]  # last use shown
    with in_tenant(tenant):
        row = session.scalars(select(ApiToken)).one()
    r = manager.post(f"/t/alpha/admin/tokens/{row.id}/revoke", {}, page="/t/alpha/admin/tokens")
    assert r.status_code == 302
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {value}"}).status_code == 401
    with in_tenant(tenant):
        actions = session.scalars(select(AuditEvent.action)).all()
        assert {"token.create", "token.revoke"} <= set(actions)


def test_token_form_refuses_a_missing_name_or_account(manager, users):
    r = manager.post("/t/alpha/admin/tokens", {"user": "", "name": "x", "expires_days": "30"})
    assert r.status_code == 422 and "Choisissez le compte" in r.get_data(as_text=True)
    r = manager.post("/t/alpha/admin/tokens", {"user": str(users["manager"].id), "name": "",
                                               "expires_days": "30"})
    assert r.status_code == 422 and "Donnez un nom" in r.get_data(as_text=True)


def test_another_tenants_objects_are_404(manager, make_tenant, make_user, session):
    beta = make_tenant("beta")
    stranger = make_user(beta, "secretary")
    assert manager.get(f"/t/alpha/admin/users/{stranger.id}").status_code == 404
    r = manager.post(f"/t/alpha/admin/users/{stranger.id}/action", {"action": "deactivate"},
                     page="/t/alpha/admin/users")
    assert r.status_code == 404


def test_manager_turns_comparison_consent_on(manager, session, tenant):
    from core.reports import comparison

    page = manager.get("/t/alpha/admin/sharing").get_data(as_text=True)
    assert 'id="comparison"' in page and "checked" not in page.split('id="comparison"')[1][:40]
    assert manager.post("/t/alpha/admin/sharing", {"comparison": "on"}).status_code == 302
    session.expire_all()
    session.refresh(tenant)
    assert comparison.consents(tenant)
