"""Password reset by e-mail: a single-use link that expires, stored as a digest.

``request_reset`` answers the same way whether or not the address belongs to an account
(no account probing): the caller shows one message in every case. The e-mail goes
through the outbox, in the same transaction. ``reset_password`` spends the token, sets
the new password (which ends every open session of the account) and spends the other
pending links of the account. Services: they take the session and never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

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


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def request_reset(session, tenant, email: str, base_url: str, now: datetime | None = None
                  ) -> PasswordResetToken | None:
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
    row, link = issue_link(session, tenant, user, base_url, TOKEN_LIFETIME, now)
    outbox.enqueue_email(
        session, user.email, EMAIL_SUBJECT,
        EMAIL_TEXT.format(email=user.email, tenant=tenant.name, link=link,
                          minutes=int(TOKEN_LIFETIME.total_seconds() // 60)),
        topic="password_reset",
    )
    audit.record(session, "user.password_reset_request", user, actor=user)
    return row


def issue_link(session, tenant, user, base_url: str, lifetime: timedelta,
               now: datetime | None = None) -> tuple[PasswordResetToken, str]:
    """A new single-use set-password link for ``user`` (the account's earlier links are
    spent): the stored row and the clear link, for the caller's e-mail. Used by the
    reset above and by invitations (``core.accounts.invitations``)."""
    now = now or clock.now()
    _spend_pending(session, user, now)
    clear = secrets.token_urlsafe(32)
    row = PasswordResetToken(
        user_id=user.id, token_hash=token_digest(clear), created_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    session.flush()
    return row, f"{base_url.rstrip('/')}/t/{tenant.slug}/password/reset/{clear}"


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
