"""Password reset: same answer for any address, e-mail through the outbox, single-use
expiring token stored hashed, the new password ends open sessions."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from core import clock
from core.accounts import password_reset
from core.models import AuditEvent, OutboxMessage, PasswordResetToken, User
from core.outbox.delivery import build_email

NEW_PASSWORD = "Nouveau-mot-2026!"


def _request(client, email, slug="alpha"):
    return client.post(f"/t/{slug}/password/forgot", data={"email": email})


def _link_from_outbox(session, in_tenant, tenant) -> str:
    """The link as the e-mail carries it (rendered at send time, never stored)."""
    with in_tenant(tenant):
        session.expire_all()
        message = session.scalars(select(OutboxMessage)).one()
        text = build_email(current_app, message).get_content()
    match = re.search(r"http://localhost(/t/alpha/password/reset/\S+)", text)
    assert match, text
    return match.group(1)


def test_forgot_page_is_french_and_labelled(client, tenant):
    r = client.get("/t/alpha/password/forgot")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert '<label for="email">Adresse e-mail</label>' in page
    assert page.count("<h1>") == 1


def test_login_page_links_to_the_forgotten_password_page(client, tenant):
    assert "/t/alpha/password/forgot" in client.get("/t/alpha/login").get_data(as_text=True)


def test_known_and_unknown_addresses_get_the_same_answer(client, users, session, in_tenant,
                                                         tenant):
    known = _request(client, users["manager"].email)
    unknown = _request(client, "personne@nulle-part.fr")
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    assert "Si un compte actif correspond" in html.unescape(known.get_data(as_text=True))
    with in_tenant(tenant):
        messages = session.scalars(select(OutboxMessage)).all()
    assert [m.recipient for m in messages] == [users["manager"].email]


def test_an_address_of_another_tenant_gets_no_mail(client, users, other_tenant, session,
                                                   in_tenant):
    r = _request(client, users["manager"].email, slug="beta")
    assert r.status_code == 200
    with in_tenant(other_tenant):
        assert session.scalars(select(OutboxMessage)).all() == []
        assert session.scalars(select(PasswordResetToken)).all() == []


def test_deactivated_account_gets_no_mail(client, users, session, in_tenant, tenant):
    from core import accounts

    with in_tenant(tenant):
        user = session.scalar(select(User).where(User.id == users["manager"].id))
        accounts.deactivate_user(session, user)
        session.commit()
    _request(client, users["manager"].email)
    with in_tenant(tenant):
        assert session.scalars(select(OutboxMessage)).all() == []


def test_token_is_stored_as_a_digest_only(client, users, session, in_tenant, tenant):
    _request(client, users["manager"].email)
    link = _link_from_outbox(session, in_tenant, tenant)
    clear = link.rsplit("/", 1)[1]
    with in_tenant(tenant):
        row = session.scalars(select(PasswordResetToken)).one()
    assert row.token_hash == password_reset.token_digest(clear)
    assert clear not in row.token_hash


def test_reset_link_sets_the_password_and_ends_open_sessions(
        app, client, users, login, session, in_tenant, tenant):
    email = users["manager"].email  # read before expire_all (PostgreSQL RLS: no tenant here)
    other_browser = app.test_client()
    login(other_browser, users["manager"])
    _request(client, email)
    link = _link_from_outbox(session, in_tenant, tenant)
    page = client.get(link)
    assert page.status_code == 200 and 'autocomplete="new-password"' in page.get_data(
        as_text=True)
    r = client.post(link, data={"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert r.status_code == 302 and r.headers["Location"].endswith("/t/alpha/login")
    assert other_browser.get("/t/alpha/").status_code == 302  # old session ended
    assert client.post("/t/alpha/login", data={"email": email,
                                               "password": NEW_PASSWORD}).status_code == 302
    with in_tenant(tenant):
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {"user.password_reset_request", "user.password_reset"} <= actions


def test_reset_link_works_only_once(client, users, session, in_tenant, tenant):
    _request(client, users["manager"].email)
    link = _link_from_outbox(session, in_tenant, tenant)
    client.post(link, data={"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    again = client.post(link, data={"password": "Encore-autre-2026", "confirmation":
                                    "Encore-autre-2026"})
    assert again.status_code == 400
    assert "a déjà servi ou a expiré" in html.unescape(again.get_data(as_text=True))


def test_expired_link_is_refused(client, users, session, in_tenant, tenant):
    _request(client, users["manager"].email)
    link = _link_from_outbox(session, in_tenant, tenant)
    with in_tenant(tenant):
        row = session.scalars(select(PasswordResetToken)).one()
        row.expires_at = clock.now() - timedelta(seconds=1)
        session.commit()
    r = client.post(link, data={"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert r.status_code == 400
    with in_tenant(tenant):
        session.expire_all()
        user = session.scalar(select(User).where(User.id == users["manager"].id))
    from core.accounts.credentials import verify_password

    assert not verify_password(user.password_hash, NEW_PASSWORD)


def test_a_new_request_spends_the_previous_link(client, users, session, in_tenant, tenant):
    email = users["manager"].email
    _request(client, email)
    first = _link_from_outbox(session, in_tenant, tenant)
    with in_tenant(tenant):
        for m in session.scalars(select(OutboxMessage)):
            session.delete(m)
        session.commit()
    _request(client, email)
    assert client.get(first).status_code == 400


def test_link_of_one_tenant_does_not_work_on_another(client, users, other_tenant, session,
                                                     in_tenant, tenant):
    _request(client, users["manager"].email)
    link = _link_from_outbox(session, in_tenant, tenant)
    assert client.get(link.replace("/t/alpha/", "/t/beta/")).status_code == 400


def test_weak_or_mismatched_passwords_are_refused_and_the_link_stays_valid(
        client, users, session, in_tenant, tenant):
    _request(client, users["manager"].email)
    link = _link_from_outbox(session, in_tenant, tenant)
    r = client.post(link, data={"password": "court", "confirmation": "court"})
    assert r.status_code == 422
    page = html.unescape(r.get_data(as_text=True))
    assert "au moins 10 caractères" in page and 'aria-invalid="true"' in page
    r = client.post(link, data={"password": NEW_PASSWORD, "confirmation": "autre-chose-2026"})
    assert r.status_code == 422
    assert "ne sont pas identiques" in html.unescape(r.get_data(as_text=True))
    assert client.get(link).status_code == 200


def test_the_outbox_holds_no_usable_reset_link_pending_or_sent(client, users, session,
                                                                 in_tenant, tenant):
    """Finding 6 of issue 18: the queued message names the reset row; the token is
    derived from it with the application's secret key when the e-mail is built."""
    _request(client, users["manager"].email)
    link = _link_from_outbox(session, in_tenant, tenant)
    clear = link.rsplit("/", 1)[1]
    with in_tenant(tenant):
        message = session.scalars(select(OutboxMessage)).one()
        stored = repr(message.payload)
        row = session.scalars(select(PasswordResetToken)).one()
        assert clear not in stored and clear != row.token_hash
        assert "{reset_token}" in message.payload["text"]
    r = client.get(link)
    assert r.status_code == 200 and 'name="password"' in r.get_data(as_text=True)


def test_a_common_french_password_is_refused_on_the_reset_page(client, users, session,
                                                                in_tenant, tenant):
    _request(client, users["manager"].email)
    link = _link_from_outbox(session, in_tenant, tenant)
    for weak in ("azertyuiop1", "Soleil2026!", "motdepasse2026", "Nicolas1985!"):
        r = client.post(link, data={"password": weak, "confirmation": weak})
        assert r.status_code == 422, weak
        assert "trop courant" in html.unescape(r.get_data(as_text=True))
