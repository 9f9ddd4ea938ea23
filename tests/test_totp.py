"""TOTP second factor: RFC 6238 / RFC 4226 vectors, sign-in step, enrolment, recovery
codes, per-tenant enforcement for CCAS staff."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from core import clock
from core.accounts import totp
from core.models import AuditEvent, TotpCredential, TotpRecoveryCode, User

# -- RFC vectors ----------------------------------------------------------------------------

SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
RFC6238 = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize(("at", "sha1", "sha256", "sha512"), RFC6238)
def test_totp_matches_the_rfc_6238_test_vectors(at, sha1, sha256, sha512):
    assert totp.totp(SEEDS["sha1"], at, digits=8, digest="sha1") == sha1
    assert totp.totp(SEEDS["sha256"], at, digits=8, digest="sha256") == sha256
    assert totp.totp(SEEDS["sha512"], at, digits=8, digest="sha512") == sha512


def test_hotp_matches_the_rfc_4226_test_vectors():
    expected = ["755224", "287082", "359152", "969429", "338314",
                "254676", "287922", "162583", "399871", "520489"]
    assert [totp.hotp(SEEDS["sha1"], c) for c in range(10)] == expected


def test_codes_of_the_neighbouring_steps_are_accepted_and_others_refused():
    secret = totp.new_secret()
    key = totp.secret_bytes(secret)
    now = 1_700_000_000
    step = totp.time_step(now)
    for delta in (-1, 0, 1):
        code = totp.totp(key, now + delta * 30)
        assert totp.matching_step(secret, code, now) == step + delta
    assert totp.matching_step(secret, totp.totp(key, now + 90), now) is None
    assert totp.matching_step(secret, "12345", now) is None
    assert totp.matching_step(secret, "abcdef", now) is None


def test_a_code_already_used_is_refused():
    secret = totp.new_secret()
    now = 1_700_000_000
    code = totp.totp(totp.secret_bytes(secret), now)
    step = totp.matching_step(secret, code, now)
    assert totp.matching_step(secret, code, now, after_step=step) is None


def test_provisioning_uri_names_issuer_account_and_secret():
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXP", "marie@ccas.fr", "CCAS Alpha")
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert parts.path == "/CCAS%20Alpha:marie@ccas.fr"
    query = parse_qs(parts.query)
    assert query["secret"] == ["JBSWY3DPEHPK3PXP"]
    assert query["issuer"] == ["CCAS Alpha"]
    assert query["digits"] == ["6"] and query["period"] == ["30"]


def test_new_secrets_are_160_bits_of_base32():
    secret = totp.new_secret()
    assert len(totp.secret_bytes(secret)) == 20
    assert secret != totp.new_secret()


# -- helpers --------------------------------------------------------------------------------


def _code_for(session, in_tenant, tenant, user, at=None):
    with in_tenant(tenant):
        session.expire_all()
        cred = session.scalar(select(TotpCredential).where(TotpCredential.user_id == user.id))
        return totp.totp(totp.secret_bytes(cred.secret), clock.timestamp() if at is None else at)


def _enrol(session, in_tenant, tenant, user) -> list[str]:
    with in_tenant(tenant):
        u = session.scalar(select(User).where(User.id == user.id))
        secret = totp.pending_secret(session, u)
        codes = totp.confirm_enrolment(session, u, totp.totp(totp.secret_bytes(secret),
                                                             clock.timestamp() - 30))
        session.commit()
    return codes


def _password(client, user, slug="alpha"):
    return client.post(f"/t/{slug}/login",
                       data={"email": user.email, "password": "Test-password-2026!"})


def _require_totp(session, tenant):
    tenant.settings = {"security": {"require_totp_for_staff": True}}
    session.commit()


# -- sign-in --------------------------------------------------------------------------------


def test_user_with_totp_must_give_a_code_before_the_session_opens(
        client, users, session, in_tenant, tenant):
    user = users["social_worker"]
    _enrol(session, in_tenant, tenant, user)
    r = _password(client, user)
    assert r.status_code == 302 and r.headers["Location"].endswith("/t/alpha/login/code")
    assert client.get("/t/alpha/").status_code == 302  # not signed in yet
    r = client.post("/t/alpha/login/code", data={"code": _code_for(session, in_tenant, tenant,
                                                                   user)})
    assert r.status_code == 302 and r.headers["Location"] == "/t/alpha/"
    assert client.get("/t/alpha/").status_code == 200
    with in_tenant(tenant):
        detail = session.scalars(select(AuditEvent.detail).where(
            AuditEvent.action == "login")).all()
    assert {"second_factor": "totp"} in detail


def test_wrong_code_is_refused_with_a_clear_message(client, users, session, in_tenant, tenant):
    user = users["manager"]
    _enrol(session, in_tenant, tenant, user)
    _password(client, user)
    r = client.post("/t/alpha/login/code", data={"code": "000000"})
    assert r.status_code == 401
    assert "Code incorrect" in r.get_data(as_text=True)
    assert client.get("/t/alpha/").status_code == 302


def test_the_same_code_cannot_sign_in_twice(client, app, users, session, in_tenant, tenant):
    user = users["manager"]
    _enrol(session, in_tenant, tenant, user)
    now = clock.timestamp() + 30  # a step later than the enrolment code
    code = _code_for(session, in_tenant, tenant, user, at=now)
    _password(client, user)
    assert client.post("/t/alpha/login/code", data={"code": code}).status_code == 302
    other = app.test_client()
    _password(other, user)
    assert other.post("/t/alpha/login/code", data={"code": code}).status_code == 401


def test_code_page_without_a_password_step_sends_back_to_login(client, tenant):
    r = client.post("/t/alpha/login/code", data={"code": "123456"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/t/alpha/login")


def test_pending_second_factor_expires(client, users, session, in_tenant, tenant):
    user = users["manager"]
    _enrol(session, in_tenant, tenant, user)
    _password(client, user)
    with client.session_transaction() as s:
        s["ccas_2fa"] = {**s["ccas_2fa"], "at": s["ccas_2fa"]["at"] - 301}
    code = _code_for(session, in_tenant, tenant, user, at=clock.timestamp() + 30)
    r = client.post("/t/alpha/login/code", data={"code": code})
    assert r.status_code == 302 and r.headers["Location"].endswith("/t/alpha/login")


def test_pending_second_factor_does_not_cross_tenants(client, users, session, in_tenant, tenant,
                                                      other_tenant):
    user = users["manager"]
    _enrol(session, in_tenant, tenant, user)
    _password(client, user)
    code = _code_for(session, in_tenant, tenant, user, at=clock.timestamp() + 30)
    r = client.post("/t/beta/login/code", data={"code": code})
    assert r.status_code == 302 and r.headers["Location"].endswith("/t/beta/login")


def test_recovery_code_signs_in_once(client, app, users, session, in_tenant, tenant):
    user = users["secretary"]
    codes = _enrol(session, in_tenant, tenant, user)
    assert len(codes) == 10
    _password(client, user)
    assert client.post("/t/alpha/login/code", data={"code": codes[0].upper()}).status_code == 302
    other = app.test_client()
    _password(other, user)
    assert other.post("/t/alpha/login/code", data={"code": codes[0]}).status_code == 401


def test_recovery_codes_are_stored_hashed(users, session, in_tenant, tenant):
    codes = _enrol(session, in_tenant, tenant, users["manager"])
    with in_tenant(tenant):
        stored = session.scalars(select(TotpRecoveryCode.code_hash)).all()
    assert len(stored) == 10
    assert not set(codes) & set(stored)
    assert all(len(h) == 64 for h in stored)


# -- enforcement per tenant -----------------------------------------------------------------


def test_staff_without_totp_must_enrol_when_the_tenant_requires_it(
        client, users, session, in_tenant, tenant):
    _require_totp(session, tenant)
    user = users["social_worker"]
    r = _password(client, user)
    assert r.status_code == 302 and r.headers["Location"].endswith("/t/alpha/login/enrolment")
    assert client.get("/t/alpha/").status_code == 302
    page = client.get("/t/alpha/login/enrolment")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "otpauth://totp/" in html and 'id="cle-secrete"' in html
    assert client.get("/t/alpha/login/enrolment").get_data(as_text=True).count(
        "otpauth://") == html.count("otpauth://")  # same secret on reload
    r = client.post("/t/alpha/login/enrolment", data={"code": "000000"})
    assert r.status_code == 401 and 'aria-invalid="true"' in r.get_data(as_text=True)
    r = client.post("/t/alpha/login/enrolment",
                    data={"code": _code_for(session, in_tenant, tenant, user)})
    assert r.status_code == 200
    assert "Codes de secours" in r.get_data(as_text=True)
    assert client.get("/t/alpha/").status_code == 200


def test_partners_are_not_forced_to_enrol(client, users, session, tenant):
    _require_totp(session, tenant)
    r = _password(client, users["referrer"])
    assert r.status_code == 302 and r.headers["Location"] == "/t/alpha/"


def test_required_second_factor_cannot_be_disabled(client, users, session, in_tenant, tenant,
                                                    login):
    user = users["manager"]
    _enrol(session, in_tenant, tenant, user)
    _require_totp(session, tenant)
    _password(client, user)
    client.post("/t/alpha/login/code", data={"code": _code_for(session, in_tenant, tenant, user,
                                                               at=clock.timestamp() + 30)})
    r = client.post("/t/alpha/account/security/totp/disable", data={"code": "x"})
    assert r.status_code == 403
    with in_tenant(tenant):
        assert totp.is_enabled(session, user)


# -- voluntary enrolment from the security page -----------------------------------------------


def test_user_can_enrol_then_disable_from_the_security_page(
        client, users, login, session, in_tenant, tenant):
    user = users["lender_agent"]
    login(client, user)
    assert "Non activée" in client.get("/t/alpha/account/security").get_data(as_text=True)
    page = client.get("/t/alpha/account/security/totp")
    assert page.status_code == 200 and "otpauth://totp/" in page.get_data(as_text=True)
    r = client.post("/t/alpha/account/security/totp",
                    data={"code": _code_for(session, in_tenant, tenant, user)})
    assert r.status_code == 200 and "Codes de secours" in r.get_data(as_text=True)
    with in_tenant(tenant):
        assert totp.is_enabled(session, user)
    r = client.post("/t/alpha/account/security/totp/disable",
                    data={"code": _code_for(session, in_tenant, tenant, user,
                                            at=clock.timestamp() + 30)})
    assert r.status_code == 302
    with in_tenant(tenant):
        session.expire_all()
        assert not totp.is_enabled(session, user)
        assert session.scalars(select(TotpRecoveryCode)).all() == []


def test_wrong_enrolment_code_keeps_the_factor_off(client, users, login, session, in_tenant,
                                                   tenant):
    user = users["manager"]
    login(client, user)
    client.get("/t/alpha/account/security/totp")
    r = client.post("/t/alpha/account/security/totp", data={"code": "999999x"})
    assert r.status_code == 422
    with in_tenant(tenant):
        assert not totp.is_enabled(session, user)


# -- platform operators -------------------------------------------------------------------------
#
# Operators (global accounts) get the same second factor through the same services and pages
# (core.accounts.totp, core.web.second_factor); CCAS_OPERATOR_TOTP_REQUIRED enforces it for all.

OPERATOR_PASSWORD = "Test-password-2026!"


def _operator_code(session, operator, at=None):
    session.expire_all()
    cred = totp.credential(session, operator)
    return totp.totp(totp.secret_bytes(cred.secret), clock.timestamp() if at is None else at)


def _enrol_operator(session, operator) -> list[str]:
    secret = totp.pending_secret(session, operator)
    codes = totp.confirm_enrolment(session, operator,
                                   totp.totp(totp.secret_bytes(secret), clock.timestamp() - 30))
    session.commit()
    return codes


def _operator_password(client, operator):
    return client.post("/operator/login",
                       data={"email": operator.email, "password": OPERATOR_PASSWORD})


@pytest.fixture
def operator_required(app):
    app.config["CCAS_OPERATOR_TOTP_REQUIRED"] = True
    yield
    app.config["CCAS_OPERATOR_TOTP_REQUIRED"] = False


def test_operator_enrols_from_the_security_page_then_signs_in_with_a_code(
        client, app, operator, login, session):
    from core.models import OperatorTotpCredential, OperatorTotpRecoveryCode

    login(client, operator)
    page = client.get("/operator/account/security")
    assert page.status_code == 200 and "Non activée" in page.get_data(as_text=True)
    page = client.get("/operator/account/security/totp")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="cle-secrete"' in html
    uri = re.search(r'href="(otpauth://[^"]+)"', html).group(1)
    query = parse_qs(urlsplit(uri.replace("&amp;", "&")).query)
    assert query["issuer"] == ["Microcrédit accompagné – Opérateur"]
    assert query["secret"] == [totp.credential(session, operator).secret]
    assert client.post("/operator/account/security/totp",
                       data={"code": "000000"}).status_code == 422
    assert not totp.is_enabled(session, operator)
    r = client.post("/operator/account/security/totp",
                    data={"code": _operator_code(session, operator)})
    assert r.status_code == 200 and "Codes de secours" in r.get_data(as_text=True)
    session.expire_all()
    assert totp.is_enabled(session, operator)
    hashes = session.scalars(select(OperatorTotpRecoveryCode.code_hash)).all()
    assert len(hashes) == 10 and all(len(h) == 64 for h in hashes)
    assert session.scalars(select(OperatorTotpCredential)).one().operator_id == operator.id

    # The next sign-in takes the code: the password alone opens nothing.
    other = app.test_client()
    r = _operator_password(other, operator)
    assert r.status_code == 302 and r.headers["Location"].endswith("/operator/login/code")
    assert other.get("/operator/").status_code == 302
    r = other.post("/operator/login/code", data={"code": "000000"})
    assert r.status_code == 401 and "Code incorrect" in r.get_data(as_text=True)
    assert other.get("/operator/").status_code == 302
    r = other.post("/operator/login/code",
                   data={"code": _operator_code(session, operator, at=clock.timestamp() + 30)})
    assert r.status_code == 302 and r.headers["Location"] == "/operator/"
    assert other.get("/operator/").status_code == 200


def test_operator_code_is_accepted_once_and_recovery_codes_once(client, app, operator,
                                                                 session):
    codes = _enrol_operator(session, operator)
    code = _operator_code(session, operator, at=clock.timestamp() + 30)
    _operator_password(client, operator)
    assert client.post("/operator/login/code", data={"code": code}).status_code == 302
    replay = app.test_client()
    _operator_password(replay, operator)
    assert replay.post("/operator/login/code", data={"code": code}).status_code == 401
    r = replay.post("/operator/login/code", data={"code": codes[0].upper()})
    assert r.status_code == 302 and replay.get("/operator/").status_code == 200
    again = app.test_client()
    _operator_password(again, operator)
    assert again.post("/operator/login/code", data={"code": codes[0]}).status_code == 401
    assert totp.remaining_recovery_codes(session, operator) == 9


def test_operator_code_step_keeps_the_next_page_and_expires(client, operator, session):
    _enrol_operator(session, operator)
    r = client.post("/operator/login?next=/operator/tenants/alpha",
                    data={"email": operator.email, "password": OPERATOR_PASSWORD})
    assert r.headers["Location"].endswith("/operator/login/code")
    r = client.post("/operator/login/code", data={"code": _operator_code(session, operator)})
    assert r.headers["Location"] == "/operator/tenants/alpha"
    client.post("/operator/logout")
    _operator_password(client, operator)
    with client.session_transaction() as s:
        s["ccas_2fa"] = {**s["ccas_2fa"], "at": s["ccas_2fa"]["at"] - 301}
    r = client.post("/operator/login/code",
                    data={"code": _operator_code(session, operator, at=clock.timestamp() + 30)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/operator/login")
    assert client.get("/operator/").status_code == 302


def test_pending_sign_ins_do_not_cross_between_operators_and_tenant_users(
        client, app, operator, users, session, in_tenant, tenant):
    _enrol_operator(session, operator)
    user = users["manager"]
    _enrol(session, in_tenant, tenant, user)
    _operator_password(client, operator)
    r = client.post("/t/alpha/login/code",
                    data={"code": _operator_code(session, operator, at=clock.timestamp() + 30)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/t/alpha/login")
    staff = app.test_client()
    _password(staff, user)
    code = _code_for(session, in_tenant, tenant, user, at=clock.timestamp() + 30)
    r = staff.post("/operator/login/code", data={"code": code})
    assert r.status_code == 302 and r.headers["Location"].endswith("/operator/login")
    assert staff.get("/operator/").status_code == 302


def test_operator_disables_the_second_factor_only_with_a_valid_code(client, operator, login,
                                                                     session):
    from core.models import OperatorTotpRecoveryCode

    _enrol_operator(session, operator)
    _operator_password(client, operator)
    client.post("/operator/login/code", data={"code": _operator_code(session, operator)})
    page = client.get("/operator/account/security").get_data(as_text=True)
    assert "Activée." in page and "Codes de secours restants : 10" in page
    r = client.post("/operator/account/security/totp/disable", data={"code": "000000"})
    assert r.status_code == 302
    assert "reste activée" in client.get("/operator/account/security").get_data(as_text=True)
    session.expire_all()
    assert totp.is_enabled(session, operator)
    r = client.post("/operator/account/security/totp/disable",
                    data={"code": _operator_code(session, operator, at=clock.timestamp() + 30)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/operator/account/security")
    session.expire_all()
    assert not totp.is_enabled(session, operator)
    assert session.scalars(select(OperatorTotpRecoveryCode)).all() == []
    fresh = client.application.test_client()
    r = _operator_password(fresh, operator)
    assert r.headers["Location"] == "/operator/" and fresh.get("/operator/").status_code == 200


def test_required_operator_totp_sends_an_operator_without_one_to_enrolment(
        client, operator, session, operator_required):
    r = _operator_password(client, operator)
    assert r.status_code == 302 and r.headers["Location"].endswith("/operator/login/enrolment")
    assert client.get("/operator/").status_code == 302
    page = client.get("/operator/login/enrolment")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "otpauth://totp/" in html
    assert "La plateforme impose la double authentification" in html
    r = client.post("/operator/login/enrolment", data={"code": "000000"})
    assert r.status_code == 401 and 'aria-invalid="true"' in r.get_data(as_text=True)
    assert client.get("/operator/").status_code == 302
    r = client.post("/operator/login/enrolment", data={"code": _operator_code(session, operator)})
    assert r.status_code == 200 and "Codes de secours" in r.get_data(as_text=True)
    assert client.get("/operator/").status_code == 200
    assert totp.is_enabled(session, operator)


def test_required_operator_totp_cannot_be_disabled(client, operator, session, operator_required):
    _enrol_operator(session, operator)
    _operator_password(client, operator)
    client.post("/operator/login/code", data={"code": _operator_code(session, operator)})
    page = client.get("/operator/account/security").get_data(as_text=True)
    assert "La plateforme l&#39;impose" in page or "La plateforme l'impose" in page
    r = client.post("/operator/account/security/totp/disable",
                    data={"code": _operator_code(session, operator, at=clock.timestamp() + 30)})
    assert r.status_code == 403
    session.expire_all()
    assert totp.is_enabled(session, operator)


def test_operator_requirement_is_a_deployment_setting(monkeypatch, tmp_path):
    from core import config

    monkeypatch.setenv("CCAS_OPERATOR_TOTP_REQUIRED", "true")
    assert config.load(str(tmp_path))["CCAS_OPERATOR_TOTP_REQUIRED"] is True
    monkeypatch.delenv("CCAS_OPERATOR_TOTP_REQUIRED")
    assert config.load(str(tmp_path))["CCAS_OPERATOR_TOTP_REQUIRED"] is False


def test_ccas_operator_reset_totp_removes_a_lost_second_factor(ccas, operator, session):
    from core.models import OperatorTotpRecoveryCode

    _enrol_operator(session, operator)
    assert totp.is_enabled(session, operator)
    result = ccas("operator", "reset-totp", "--email", operator.email.upper())
    assert result.exit_code == 0, result.output
    assert "Second facteur supprimé" in result.output
    session.expire_all()
    assert not totp.is_enabled(session, operator)
    assert session.scalars(select(OperatorTotpRecoveryCode)).all() == []
    again = ccas("operator", "reset-totp", "--email", operator.email)
    assert again.exit_code == 0 and "rien à faire" in again.output
    unknown = ccas("operator", "reset-totp", "--email", "personne@example.org")
    assert unknown.exit_code != 0 and "Aucun opérateur" in unknown.output
