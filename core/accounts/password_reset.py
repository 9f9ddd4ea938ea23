"""Password reset by e-mail: a single-use link that expires, stored as a digest.

``request_reset`` answers the same way whether or not the address belongs to an account
(no account probing): the caller shows one message in every case. The e-mail goes
through the outbox, in the same transaction, without the link: the message holds the
reset row's id, and the link's token is derived at send time (``link_token``: an HMAC of
that id under the application's ``SECRET_KEY``). Neither the outbox nor the token table
holds a usable link: the table has the token's SHA-256 digest, the outbox a reference.
``reset_password`` spends the token, sets the new password (which ends every open
session of the account) and spends the other pending links of the account. Services:
they take the session and never commit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from .. import accounts, audit, clock, outbox
from ..errors import UserError
from ..models import PasswordResetToken, User

TOKEN_LIFETIME = timedelta(hours=1)

EMAIL_SUBJECT = "Réinitialisation de votre mot de passe"
EMAIL_TEXT = """Bonjour,

Une réinitialisation du mot de passe de votre compte {email} a été demandée
sur {tenant}.

Pour choisir un nouveau mot de passe, ouvrez ce lien (valable {minutes} minutes,
utilisable une seule fois) :

{link}

Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe
actuel reste valable.
"""

INVALID_LINK = (
    "Ce lien de réinitialisation est invalide, a déjà servi ou a expiré. "
    "Demandez-en un nouveau."
)


#: Where the link's token goes in a queued message; filled in at send time.
TOKEN_PLACEHOLDER = "{reset_token}"  # noqa: S105 - a placeholder, not a secret


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def link_token(secret_key: str, row_id: uuid.UUID | str) -> str:
    """The clear token of reset row ``row_id``: HMAC-SHA256 of its id under the
    application's secret key (256 bits, URL-safe). Derived again when the e-mail is sent."""
    mac = hmac.new(str(secret_key).encode("utf-8"), f"password-reset:{row_id}".encode(),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def fill_link(secret_key: str, payload: dict, text: str) -> str:
    """``text`` of a queued message with its reset link's token put in (send time)."""
    row_id = (payload or {}).get("reset_token_id")
    if not row_id or TOKEN_PLACEHOLDER not in text:
        return text
    return text.replace(TOKEN_PLACEHOLDER, link_token(secret_key, row_id))


def request_reset(session, tenant, email: str, base_url: str, secret_key: str,
                  now: datetime | None = None) -> PasswordResetToken | None:
    """Send a reset link to ``email`` if it names an active account of the current tenant.

    Returns the token row (or ``None``); the caller must not tell the two cases apart.
    """
    now = now or clock.now()
    email = (email or "").strip().lower()
    if not email or len(email) > 254:
        return None
    user = session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None or not user.active:
        return None
    row, link = issue_link(session, tenant, user, base_url, TOKEN_LIFETIME, now,
                           secret_key=secret_key)
    enqueue_with_link(
        session, row, user.email, EMAIL_SUBJECT,
        EMAIL_TEXT.format(email=user.email, tenant=tenant.name, link=link,
                          minutes=int(TOKEN_LIFETIME.total_seconds() // 60)),
        topic="password_reset",
    )
    audit.record(session, "user.password_reset_request", user, actor=user)
    return row


def issue_link(session, tenant, user, base_url: str, lifetime: timedelta,
               now: datetime | None = None, secret_key: str | None = None
               ) -> tuple[PasswordResetToken, str]:
    """A new single-use set-password link for ``user`` (the account's earlier links are
    spent): the stored row (the token's digest only) and the link with
    ``TOKEN_PLACEHOLDER`` where the token goes, put in at send time. Send it with
    ``enqueue_with_link``. Used by the reset above and by invitations
    (``core.accounts.invitations``)."""
    now = now or clock.now()
    secret_key = secret_key or current_app.config["SECRET_KEY"]
    _spend_pending(session, user, now)
    row_id = uuid.uuid4()
    row = PasswordResetToken(
        id=row_id, user_id=user.id, token_hash=token_digest(link_token(secret_key, row_id)),
        created_at=now, expires_at=now + lifetime,
    )
    session.add(row)
    session.flush()
    return row, f"{base_url.rstrip('/')}/t/{tenant.slug}/password/reset/{TOKEN_PLACEHOLDER}"


def enqueue_with_link(session, row: PasswordResetToken, to: str, subject: str, text: str,
                      topic: str):
    """Queue ``text`` (holding ``TOKEN_PLACEHOLDER``) with a reference to ``row``: the
    outbox never holds a usable link."""
    message = outbox.enqueue_email(session, to, subject, text, topic=topic)
    message.payload = {**message.payload, "reset_token_id": str(row.id)}
    return message


def _spend_pending(session, user, now: datetime) -> None:
    for pending in session.scalars(
        select(PasswordResetToken).where(
            PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None)
        )
    ):
        pending.used_at = now


def valid_token(session, token: str, now: datetime | None = None) -> PasswordResetToken | None:
    """The unused, unexpired token row for the clear ``token`` in the current tenant."""
    now = now or clock.now()
    if not token or len(token) > 200:
        return None
    row = session.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == token_digest(token))
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    user = session.scalar(select(User).where(User.id == row.user_id))
    if user is None or not user.active:
        return None
    return row


def reset_password(session, token: str, password: str, confirmation: str,
                   now: datetime | None = None) -> User:
    """Set a new password with a valid link; raise ``UserError`` otherwise."""
    now = now or clock.now()
    row = valid_token(session, token, now)
    if row is None:
        raise UserError(INVALID_LINK, status=400)
    if password != confirmation:
        raise UserError("Les deux mots de passe ne sont pas identiques.", status=422,
                        field="confirmation")
    user = session.scalar(select(User).where(User.id == row.user_id))
    accounts.set_password(session, user, password)  # ends every open session
    row.used_at = now
    _spend_pending(session, user, now)
    audit.record(session, "user.password_reset", user, actor=user)
    return user
