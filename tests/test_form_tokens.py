"""One-time form tokens (core.web.form_tokens), shared by the intake sheet and the partners'
referral form: a token is spent once, two sendings at the same instant save one record, a
refused form keeps its token, forged, foreign and expired tokens are refused, spent rows
are purged after expiry."""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import clock
from core.models import Case, FormToken, Referral

INTAKE = {
    "last_name": "Martin", "first_name": "Léa", "birth_date": "1995-04-02",
    "phone": "0600000000", "adults": "1", "purpose": "mobility",
    "amount_requested": "900", "source": "phone", "action": "save",
}
REFERRAL = {
    "first_name": "Paul", "last_name": "Durand", "birth_date": "1988-03-12",
    "phone": "0600000001", "purpose": "mobility", "amount_requested": "700",
    "note": "Permis", "consent": "on",
}
PAGES = {"intake": "/t/alpha/cases/new", "referral": "/t/alpha/orientations/nouvelle"}


def token_of(client, url) -> str:
    page = client.get(url)
    assert page.status_code == 200
    return re.search(r'name="form_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def count(session, in_tenant, tenant, model) -> int:
    with in_tenant(tenant):
        session.expire_all()
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def secretary(app, users, login):
    client = app.test_client()
    login(client, users["secretary"])
    return client


@pytest.fixture
def referrer(app, users, login):
    client = app.test_client()
    login(client, users["referrer"])
    return client


def test_an_intake_sheet_sent_twice_is_saved_once_and_the_replay_goes_to_the_case(
        secretary, session, in_tenant, tenant):
    data = {**INTAKE, "form_token": token_of(secretary, PAGES["intake"])}
    first = secretary.post(PAGES["intake"], data=data)
    assert first.status_code == 302 and "/cases/" in first.headers["Location"]
    again = secretary.post(PAGES["intake"], data=data)
    assert again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    page = secretary.get(again.headers["Location"]).get_data(as_text=True)
    assert "déjà été envoyée" in page
    assert count(session, in_tenant, tenant, Case) == 1
    with in_tenant(tenant):
        row = session.scalars(select(FormToken)).one()
        case = session.scalars(select(Case)).one()
    assert row.result_id == case.id


def test_a_spent_token_is_refused_to_another_session_of_the_same_user(
        app, secretary, users, login, session, in_tenant, tenant):
    data = {**INTAKE, "form_token": token_of(secretary, PAGES["intake"])}
    assert secretary.post(PAGES["intake"], data=data).status_code == 302
    other = app.test_client()
    login(other, users["secretary"])
    again = other.post(PAGES["intake"], data=data)
    assert again.status_code == 302 and "/cases/" in again.headers["Location"]
    assert count(session, in_tenant, tenant, Case) == 1


def test_a_refused_form_keeps_its_token(secretary, session, in_tenant, tenant):
    token = token_of(secretary, PAGES["intake"])
    refused = secretary.post(PAGES["intake"], data={**INTAKE, "last_name": "",
                                                    "form_token": token})
    assert refused.status_code == 422
    assert count(session, in_tenant, tenant, FormToken) == 0  # rolled back with the form
    fixed = secretary.post(PAGES["intake"], data={**INTAKE, "form_token": token})
    assert fixed.status_code == 302 and "/cases/" in fixed.headers["Location"]
    assert count(session, in_tenant, tenant, Case) == 1


def test_a_referral_form_sent_twice_is_saved_once(referrer, session, in_tenant, tenant):
    data = {**REFERRAL, "form_token": token_of(referrer, PAGES["referral"])}
    first = referrer.post(PAGES["referral"], data=data)
    assert first.status_code == 302 and "/orientations/" in first.headers["Location"]
    again = referrer.post(PAGES["referral"], data=data)
    assert again.status_code == 302 and again.headers["Location"].endswith("/orientations/")
    assert "déjà été envoyé" in referrer.get(again.headers["Location"]).get_data(as_text=True)
    assert count(session, in_tenant, tenant, Referral) == 1


@pytest.mark.parametrize("tamper", ["altered", "other_form", "other_tenant", "other_user",
                                    "garbage"])
def test_forged_or_foreign_tokens_are_refused_and_save_nothing(
        app, secretary, users, make_user, login, session, in_tenant, tenant, tamper):
    from core.web import form_tokens

    token = token_of(secretary, PAGES["intake"])
    nonce, issued, mac = token.split(".")
    me = users["secretary"]
    if tamper == "altered":
        token = f"{uuid.uuid4().hex}.{issued}.{mac}"
    elif tamper == "other_form":  # genuine, but issued for the referral form
        forged = form_tokens._mac("referral", tenant.id, me.id, nonce, int(issued))
        token = f"{nonce}.{issued}.{forged}"
    elif tamper == "other_tenant":
        forged = form_tokens._mac("intake", tenant.id + 1, me.id, nonce, int(issued))
        token = f"{nonce}.{issued}.{forged}"
    elif tamper == "other_user":
        colleague = app.test_client()
        login(colleague, make_user(tenant, "social_worker"))
        token = token_of(colleague, PAGES["intake"])
    else:
        token = "x.y.z"
    r = secretary.post(PAGES["intake"], data={**INTAKE, "form_token": token})
    assert r.status_code == 302 and r.headers["Location"].endswith("/cases/")
    assert "déjà été envoyée" in secretary.get(r.headers["Location"]).get_data(as_text=True)
    assert count(session, in_tenant, tenant, Case) == 0
    assert count(session, in_tenant, tenant, FormToken) == 0


def test_the_referral_form_requires_a_token(referrer, session, in_tenant, tenant):
    # The intake sheet leaves a POST without a token unchecked (API-like clients, as
    # before); the referral form requires one.
    r = referrer.post(PAGES["referral"], data={**REFERRAL, "form_token": ""})
    assert r.status_code == 302 and r.headers["Location"].endswith("/orientations/")
    assert count(session, in_tenant, tenant, Referral) == 0


def test_an_expired_token_is_refused(secretary, users, session, in_tenant, tenant):
    from core.web import form_tokens

    nonce = uuid.uuid4().hex
    issued = int(clock.timestamp() - form_tokens.TTL.total_seconds() - 60)
    mac = form_tokens._mac("intake", tenant.id, users["secretary"].id, nonce, issued)
    token = f"{nonce}.{issued}.{mac}"
    r = secretary.post(PAGES["intake"], data={**INTAKE, "form_token": token})
    assert r.status_code == 302 and r.headers["Location"].endswith("/cases/")
    assert count(session, in_tenant, tenant, Case) == 0


def test_spent_tokens_are_purged_after_expiry(secretary, ccas, session, in_tenant, tenant,
                                              other_tenant, users):
    from core.web import form_tokens

    secretary.post(PAGES["intake"], data={**INTAKE, "form_token": token_of(
        secretary, PAGES["intake"])})
    secretary.post(PAGES["intake"], data={**INTAKE, "last_name": "Petit", "form_token":
                                          token_of(secretary, PAGES["intake"])})
    with in_tenant(tenant):
        old = session.scalars(select(FormToken)).first()
        old.spent_at = clock.now() - form_tokens.TTL - timedelta(minutes=1)
        session.commit()
    result = ccas("referrals", "remind")
    assert result.exit_code == 0 and "alpha" in result.output
    assert "1 jeton de formulaire purgé" in result.output
    assert count(session, in_tenant, tenant, FormToken) == 1
    assert count(session, in_tenant, tenant, Case) == 2


# -- two sendings at the same instant ---------------------------------------------------------


def _race(app, client, url: str, data: dict, slow_target, monkeypatch):
    """Send ``data`` twice at the same instant from two clients sharing ``client``'s
    session (a double click, two tabs); the first request to get in is held inside
    ``slow_target`` for a moment, so the second arrives while it is mid-transaction."""
    module, name = slow_target
    real = getattr(module, name)
    inside = []

    def slow(*args, **kwargs):
        inside.append(time.monotonic())
        time.sleep(0.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, slow)
    twin = app.test_client()
    twin.set_cookie("ccas_session", client.get_cookie("ccas_session").value)
    start = threading.Barrier(2)
    out: dict = {}

    def send(key, c):
        start.wait()
        began = time.monotonic()
        response = c.post(url, data=data)
        out[key] = (began, time.monotonic(), response)

    threads = [threading.Thread(target=send, args=(k, c))
               for k, c in (("a", client), ("b", twin))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert set(out) == {"a", "b"}
    (a_start, a_end, a), (b_start, b_end, b) = out["a"], out["b"]
    assert max(a_start, b_start) < min(a_end, b_end), "the two requests did not overlap"
    assert len(inside) == 1, "both requests went past the token"
    return sorted((a, b), key=lambda r: r.status_code)


def test_two_intake_sheets_sent_at_the_same_instant_save_one_case(
        app, secretary, session, in_tenant, tenant, monkeypatch):
    from core.cases import intake

    data = {**INTAKE, "form_token": token_of(secretary, PAGES["intake"])}
    first, second = _race(app, secretary, PAGES["intake"], data, (intake, "open_case"),
                          monkeypatch)
    assert first.status_code == second.status_code == 302
    # The one that waited was sent to the case the other created.
    assert first.headers["Location"] == second.headers["Location"]
    assert "/cases/" in first.headers["Location"]
    assert count(session, in_tenant, tenant, Case) == 1


def test_two_referral_forms_sent_at_the_same_instant_save_one_referral(
        app, referrer, session, in_tenant, tenant, monkeypatch):
    from core import referrals

    data = {**REFERRAL, "form_token": token_of(referrer, PAGES["referral"])}
    first, second = _race(app, referrer, PAGES["referral"], data, (referrals, "submit"),
                          monkeypatch)
    locations = sorted(r.headers["Location"] for r in (first, second))
    assert first.status_code == second.status_code == 302
    assert locations[0].endswith("/orientations/")  # the replay: "already sent"
    assert re.search(r"/orientations/[0-9a-f-]{36}$", locations[1])
    assert count(session, in_tenant, tenant, Referral) == 1
