"""Time-based one-time passwords (RFC 6238, on HOTP RFC 4226), standard library only.

Pure functions first (codes, verification, provisioning URI, recovery codes), then the
services that keep an account's credential (they take the session and never commit).

The services serve both kinds of account: a tenant user (``User``: tables
``totp_credentials``, ``totp_recovery_codes``, audit trail of the tenant) and a platform
operator (``Operator``: global tables ``operator_totp_*``; operators have no tenant, so
their events go to the application log, without secret or e-mail address).

A tenant enforces the second factor for its CCAS staff with
``tenant.settings["security"]["require_totp_for_staff"] = true``; the platform enforces
it for its operators with ``CCAS_OPERATOR_TOTP_REQUIRED``. An account without a
confirmed credential must then enrol at the next sign-in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import struct
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from sqlalchemy import select

from .. import audit, clock
from ..errors import UserError
from ..models import (
    OperatorTotpCredential,
    OperatorTotpRecoveryCode,
    TotpCredential,
    TotpRecoveryCode,
)
from ..policy import CCAS_STAFF

log = logging.getLogger(__name__)

STEP_SECONDS = 30
DIGITS = 6
#: Codes of the previous and next step are accepted too (clock drift of the phone).
WINDOW = 1
RECOVERY_CODES = 10
_DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


# -- pure computation --------------------------------------------------------------------


def new_secret() -> str:
    """A random 160-bit secret, base32 without padding (what authenticator apps expect)."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("=")


def secret_bytes(secret_b32: str) -> bytes:
    cleaned = secret_b32.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS, digest: str = "sha1") -> str:
    """RFC 4226 HOTP value of ``counter`` (dynamic truncation), zero-padded."""
    mac = hmac.new(key, struct.pack(">Q", counter), _DIGESTS[digest]).digest()
    offset = mac[-1] & 0x0F
    binary = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(binary % (10 ** digits)).zfill(digits)


def time_step(at: float, step: int = STEP_SECONDS) -> int:
    return int(at // step)


def totp(key: bytes, at: float, digits: int = DIGITS, digest: str = "sha1",
         step: int = STEP_SECONDS) -> str:
    """RFC 6238 TOTP value at Unix time ``at``."""
    return hotp(key, time_step(at, step), digits, digest)


def matching_step(secret_b32: str, code: str, at: float | None = None,
                  after_step: int = 0, window: int = WINDOW) -> int | None:
    """The time step whose code is ``code`` (within ``window`` steps of ``at``), if it is
    later than ``after_step`` (a code already used is refused); ``None`` otherwise."""
    code = (code or "").replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    key = secret_bytes(secret_b32)
    now_step = time_step(clock.timestamp() if at is None else at)
    for candidate in range(now_step - window, now_step + window + 1):
        if candidate > after_step and hmac.compare_digest(hotp(key, candidate), code):
            return candidate
    return None


def provisioning_uri(secret_b32: str, account: str, issuer: str) -> str:
    """``otpauth://totp/Issuer:account?secret=…`` (Key Uri Format of authenticator apps)."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode({"secret": secret_b32, "issuer": issuer, "algorithm": "SHA1",
                       "digits": DIGITS, "period": STEP_SECONDS}, quote_via=quote)
    return f"otpauth://totp/{label}?{query}"


def grouped(secret_b32: str) -> str:
    """The secret in groups of four letters, easier to type by hand."""
    return " ".join(secret_b32[i:i + 4] for i in range(0, len(secret_b32), 4))


_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_recovery_code() -> str:
    """``xxxx-xxxx-xxxx-xxxx``: 16 characters from 31, about 79 bits."""
    chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
    return "-".join(chars[i:i + 4] for i in range(0, 16, 4))


def recovery_digest(code: str) -> str:
    normalised = "".join(c for c in (code or "").lower() if c.isalnum())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    return len("".join(c for c in (code or "") if c.isalnum())) == 16


# -- policy ------------------------------------------------------------------------------


def required_for(tenant, user) -> bool:
    """Whether ``tenant`` requires the second factor of ``user`` (its CCAS staff)."""
    settings = (getattr(tenant, "settings", None) or {}).get("security") or {}
    return bool(settings.get("require_totp_for_staff")) and user.role in CCAS_STAFF


# -- services (session; the caller commits) ----------------------------------------------


@dataclass(frozen=True)
class _Store:
    """Where an account's second factor lives: its credential and recovery-code models
    and the column naming the account in both."""

    credential: type
    recovery: type
    owner: str

    def mine(self, model, account):
        return getattr(model, self.owner) == account.id


_USERS = _Store(TotpCredential, TotpRecoveryCode, "user_id")
_OPERATORS = _Store(OperatorTotpCredential, OperatorTotpRecoveryCode, "operator_id")


def _store(account) -> _Store:
    return _OPERATORS if getattr(account, "is_operator", False) else _USERS


def _record(session, action: str, account, by_self: bool = True) -> None:
    """An event of ``account``'s second factor (``by_self``: the account acts, not the
    signed-in user): the tenant's audit trail for a user; the application log for an
    operator (no tenant, hence no audit table to write to)."""
    if getattr(account, "is_operator", False):
        log.info("operator %s: %s", account.id, action)
        return
    audit.record(session, action, account, **({"actor": account} if by_self else {}))


def credential(session, account):
    """The account's credential (``TotpCredential`` or ``OperatorTotpCredential``)."""
    store = _store(account)
    return session.scalar(
        select(store.credential).where(store.mine(store.credential, account))
    )


def is_enabled(session, account) -> bool:
    cred = credential(session, account)
    return cred is not None and cred.confirmed_at is not None


def pending_secret(session, account) -> str:
    """The secret being enrolled (created on first call, kept until confirmed)."""
    cred = credential(session, account)
    if cred is not None and cred.confirmed_at is not None:
        raise UserError("La double authentification est déjà activée pour ce compte.",
                        status=409)
    if cred is None:
        store = _store(account)
        cred = store.credential(**{store.owner: account.id}, secret=new_secret(),
                                last_used_step=0)
        session.add(cred)
        session.flush()
    return cred.secret


def confirm_enrolment(session, account, code: str, at: float | None = None) -> list[str]:
    """Activate the pending secret if ``code`` matches; return new recovery codes (clear,
    shown once; only their digests are kept)."""
    cred = credential(session, account)
    if cred is None or cred.confirmed_at is not None:
        raise UserError("Aucune activation de double authentification en cours.", status=409)
    step = matching_step(cred.secret, code, at)
    if step is None:
        raise UserError("Code incorrect : saisissez les 6 chiffres affichés par "
                        "l'application d'authentification.", status=422, field="code")
    cred.confirmed_at = clock.now()
    cred.last_used_step = step
    codes = _replace_recovery_codes(session, account)
    _record(session, "user.totp_enable", account)
    return codes


def _replace_recovery_codes(session, account) -> list[str]:
    store = _store(account)
    for old in session.scalars(
        select(store.recovery).where(store.mine(store.recovery, account))
    ):
        session.delete(old)
    session.flush()
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    for code in codes:
        session.add(store.recovery(**{store.owner: account.id},
                                   code_hash=recovery_digest(code)))
    session.flush()
    return codes


def verify(session, account, code: str, at: float | None = None) -> str | None:
    """Check a sign-in code: a TOTP code (each accepted once) or an unused recovery code
    (then spent). Returns ``"totp"``, ``"recovery"`` or ``None``."""
    cred = credential(session, account)
    if cred is None or cred.confirmed_at is None:
        return None
    step = matching_step(cred.secret, code, at, after_step=cred.last_used_step)
    if step is not None:
        cred.last_used_step = step
        return "totp"
    if looks_like_recovery_code(code):
        store = _store(account)
        row = session.scalar(
            select(store.recovery).where(
                store.mine(store.recovery, account),
                store.recovery.code_hash == recovery_digest(code),
                store.recovery.used_at.is_(None),
            )
        )
        if row is not None:
            row.used_at = clock.now()
            _record(session, "user.totp_recovery_code", account)
            return "recovery"
    return None


def remaining_recovery_codes(session, account) -> int:
    store = _store(account)
    return len(session.scalars(
        select(store.recovery.id).where(
            store.mine(store.recovery, account), store.recovery.used_at.is_(None)
        )
    ).all())


def disable(session, account) -> None:
    """Remove the account's second factor and its recovery codes."""
    cred = credential(session, account)
    if cred is not None:
        session.delete(cred)
    store = _store(account)
    for row in session.scalars(
        select(store.recovery).where(store.mine(store.recovery, account))
    ):
        session.delete(row)
    _record(session, "user.totp_disable", account, by_self=False)
