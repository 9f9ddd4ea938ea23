"""Secrets the platform must read back (an identity provider's client secret), sealed at
rest with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``).

The key is derived (HKDF-SHA256) from ``CCAS_SEALING_KEY``, or from ``CCAS_SECRET_KEY``
when that is not set: a database dump, a ``ccas backup`` file or a ``ccas tenant export``
archive carries ciphertext only, readable by a deployment holding the same key. Another
deployment (a tenant imported elsewhere) cannot open it: the secret must be entered again
there (``unseal`` raises :class:`SealBroken`, which the pages and the CLI say in French).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PREFIX = "fernet1:"
_INFO = b"ccas-network sealed secrets v1"


class SealBroken(Exception):
    """The sealed value cannot be opened with this deployment's key."""


def _fernet(key_material: str | None = None) -> Fernet:
    if key_material is None:
        key_material = (current_app.config.get("CCAS_SEALING_KEY")
                        or current_app.config["SECRET_KEY"])
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        key_material.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret: str, key_material: str | None = None) -> str:
    """``secret`` encrypted and authenticated, as text for a database column."""
    return PREFIX + _fernet(key_material).encrypt(secret.encode("utf-8")).decode("ascii")


def unseal(sealed: str, key_material: str | None = None) -> str:
    """The secret inside ``sealed``; :class:`SealBroken` when this key cannot open it."""
    if not sealed or not sealed.startswith(PREFIX):
        raise SealBroken("not a sealed value")
    try:
        return _fernet(key_material).decrypt(sealed[len(PREFIX):].encode("ascii")).decode(
            "utf-8")
    except (InvalidToken, ValueError) as exc:
        raise SealBroken("sealed with another key") from exc
