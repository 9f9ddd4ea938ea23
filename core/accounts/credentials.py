"""Password hashing (argon2id) and API token material. Pure helpers, no Flask."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from . import common_passwords

# OWASP minimum for argon2id: 19 MiB memory, 2 iterations, 1 degree of parallelism.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

MIN_PASSWORD_LENGTH = 10


class PasswordPolicyError(ValueError):
    pass


def check_password_policy(password: str) -> None:
    """Raise PasswordPolicyError (French message) if ``password`` is too weak."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(
            f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères."
        )
    if len(set(password)) < 4 or common_passwords.is_common(password):
        raise PasswordPolicyError("Ce mot de passe est trop courant ; choisissez-en un autre.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


_DUMMY_HASH = None


def burn_password_time(password: str) -> None:
    """Spend the time of a verification when the account does not exist (no user probing)."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("not-a-real-account-password")
    verify_password(_DUMMY_HASH, password)


TOKEN_PREFIX = "ccas"  # noqa: S105 - a prefix, not a secret


def new_api_token(tenant_id: int) -> tuple[str, str]:
    """Return ``(token, sha256 hex)``. The token names its tenant: ``ccas_<tid>_<secret>``,
    so the API sets the tenant before looking the token up (no cross-tenant lookup)."""
    secret = secrets.token_urlsafe(32)
    token = f"{TOKEN_PREFIX}_{tenant_id}_{secret}"
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_token_tenant(token: str) -> int | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1].isdigit():
        return None
    if len(parts[1]) > 9:
        return None
    return int(parts[1])


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
