"""No secret in the logs: a password typed at sign-in, a bearer token, a reset link, a TOTP
secret never appear in captured log records, even at DEBUG level with SQL echo on
(``core.logsafety`` hides SQL parameters and result rows)."""

from __future__ import annotations

import logging
import re

from sqlalchemy import select

from core import clock

PASSWORD = "Test-password-2026!"


def _debug_everywhere(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # it sets itself to WARNING


def _all_logs(caplog) -> str:
    return "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records
    )


def test_password_and_token_never_reach_the_logs(client, users, api_token, caplog):
    token = api_token(users["referrer"])
    _debug_everywhere(caplog)  # SQLAlchemy logs every statement and its parameters
    r = client.post("/t/alpha/login", data={"email": users["manager"].email,
                                            "password": PASSWORD})
    assert r.status_code == 302
    client.post("/t/alpha/login", data={"email": users["secretary"].email,
                                        "password": "Wrong-but-secret-42"})
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}x"})
    logs = _all_logs(caplog)
    assert "sqlalchemy.engine" in logs, "the SQL log was not captured: the check saw nothing"
    assert PASSWORD not in logs
    assert "Wrong-but-secret-42" not in logs
    assert token not in logs and token.split("_", 2)[2] not in logs


def test_reset_link_and_totp_secret_never_reach_the_logs(client, users, session, in_tenant,
                                                         tenant, caplog):
    from core.models import OutboxMessage, TotpCredential
    from core.outbox.delivery import build_email

    _debug_everywhere(caplog)  # from the start: the e-mail with the link is written too
    client.post("/t/alpha/password/forgot", data={"email": users["manager"].email})
    with in_tenant(tenant):
        message = session.scalars(select(OutboxMessage)).one()
        text = build_email(client.application, message).get_content()
    clear = re.search(r"/password/reset/(\S+)", text).group(1)
    client.get(f"/t/alpha/password/reset/{clear}")
    client.post("/t/alpha/login", data={"email": users["manager"].email, "password": PASSWORD})
    client.get("/t/alpha/account/security/totp")
    with in_tenant(tenant):
        secret = session.scalars(select(TotpCredential.secret)).one()
    logs = _all_logs(caplog)
    assert "sqlalchemy.engine" in logs
    assert clear not in logs
    assert secret not in logs


def test_operator_totp_secret_and_codes_never_reach_the_logs(client, operator, login, session,
                                                             caplog):

    from core.accounts import totp

    _debug_everywhere(caplog)
    login(client, operator)
    client.get("/operator/account/security/totp")
    secret = totp.credential(session, operator).secret
    code = totp.totp(totp.secret_bytes(secret), clock.timestamp())
    page = client.post("/operator/account/security/totp", data={"code": code})
    recovery = re.findall(r"<code>([a-z0-9-]{19})</code>", page.get_data(as_text=True))
    assert len(recovery) == 10
    logs = _all_logs(caplog)
    assert "sqlalchemy.engine" in logs
    assert "user.totp_enable" in logs  # the operator's event went to the log…
    assert secret not in logs  # …without its secret
    assert not any(r in logs for r in recovery)
    assert operator.email not in logs
