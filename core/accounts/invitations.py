"""Inviting a user by e-mail: the account is created without a usable password and a
single-use set-password link (the password-reset machinery, a longer lifetime) goes
through the outbox in the same transaction. The manager's pages and ``ccas user invite``
call the same service; the caller commits."""

from __future__ import annotations

import secrets
from datetime import timedelta

from .. import accounts, audit
from ..errors import UserError
from ..models import User
from ..policy import ROLE_LABELS
from . import password_reset
from .credentials import hash_password

#: An invitation link stays valid a week (a reset link: an hour).
INVITATION_LIFETIME = timedelta(days=7)

EMAIL_SUBJECT = "Votre compte sur {tenant}"
EMAIL_TEXT = """Bonjour,

Un compte a été ouvert pour vous ({email}) sur {tenant}, avec le rôle
« {role} » ({organisation}).

Pour choisir votre mot de passe, ouvrez ce lien (valable {days} jours, utilisable une
seule fois) :

{link}

Vous vous connecterez ensuite à l'adresse {login}.

Si ce message ne vous est pas destiné, ignorez-le.
"""


def invite_user(session, tenant, email: str, role: str, org_name: str, base_url: str,
                full_name: str = "") -> User:
    """Create the account (no usable password) and e-mail its set-password link."""
    user = accounts.create_user(
        session, email, role, org_name, None, full_name,
        password_hash=hash_password(secrets.token_urlsafe(32)),  # known to nobody
    )
    send_link(session, tenant, user, base_url)
    return user


def send_link(session, tenant, user: User, base_url: str) -> None:
    """A new set-password link for ``user`` (the earlier ones are spent): the invitation
    again, or a reset started by the manager."""
    if not user.active:
        raise UserError(f"Le compte {user.email} est désactivé : réactivez-le d'abord.",
                        status=409, field="user")
    row, link = password_reset.issue_link(session, tenant, user, base_url,
                                           INVITATION_LIFETIME)
    password_reset.enqueue_with_link(
        session, row, user.email, EMAIL_SUBJECT.format(tenant=tenant.name),
        EMAIL_TEXT.format(
            email=user.email, tenant=tenant.name, role=ROLE_LABELS.get(user.role, user.role),
            organisation=user.organisation.name, days=INVITATION_LIFETIME.days, link=link,
            login=f"{base_url.rstrip('/')}/t/{tenant.slug}/login",
        ),
        topic="invitation",
    )
    audit.record(session, "user.invitation", user, email=user.email)
