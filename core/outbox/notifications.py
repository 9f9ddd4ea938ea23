"""What each referral event puts in the outbox (same transaction as the change).

* A new referral: an e-mail to the receiving organisation and a ``referral.created``
  webhook to its system.
* A status change: an e-mail to the referring organisation and a
  ``referral.status_changed`` webhook to its system; on acceptance, an e-mail to the
  person too when the referral gave an address.
* A reminder (unanswered referral): an e-mail to the receiving organisation and a
  ``referral.reminder`` webhook.

An organisation's e-mails go to its contact address when it has one, otherwise to its
active users (referrers of a partner; the manager and secretaries of the CCAS). E-mails are
French, plain text and HTML, and link back to the referral's page
(``CCAS_BASE_URL/t/<tenant>/orientations/<id>``). They carry the referral's reference and
the person's initials, never a case note, budget or document. Webhooks go only to an
organisation with a ``webhook_url``; ``core.outbox.delivery`` signs them with its secret.
"""

from __future__ import annotations

from flask import current_app
from markupsafe import escape
from sqlalchemy import bindparam, or_, select

from .. import clock, formats, tenancy
from ..hookspecs import hookimpl
from ..models import (
    PURPOSE_LABELS,
    REFERRAL_STATUS_LABELS,
    Organisation,
    OrganisationKind,
    Purpose,
    ReferralStatus,
    User,
)
from ..policy import Role
from ..workflow import reasons
from . import enqueue_emails, enqueue_webhook

#: What the referrer is told for each status, after "L'orientation … ".
STATUS_SENTENCES = {
    ReferralStatus.received: "a été reçue et va être étudiée.",
    ReferralStatus.accepted: "a été acceptée : une demande de microcrédit est ouverte.",
    ReferralStatus.declined: "a été déclinée.",
    ReferralStatus.expired: "a expiré faute de réponse dans le délai prévu.",
    ReferralStatus.in_evaluation: "est en cours d'évaluation.",
    ReferralStatus.submitted_to_lender: "a été transmise au prêteur.",
    ReferralStatus.granted: "a abouti : le prêt est accordé.",
    ReferralStatus.refused: "n'a pas abouti : le prêt est refusé.",
    ReferralStatus.reoriented: "a été réorientée vers un dispositif plus adapté.",
    ReferralStatus.abandoned: "a été abandonnée.",
    ReferralStatus.closed: "est clôturée.",
    ReferralStatus.in_progress: "est en cours de traitement.",
    ReferralStatus.done: "a reçu une suite.",
}


def referral_url(tenant, referral) -> str:
    base = current_app.config["CCAS_BASE_URL"].rstrip("/")
    return f"{base}/t/{tenant.slug}/orientations/{referral.id}"


def _members_emails(roles: tuple[Role, ...]):
    """The active members of an organisation having one of ``roles``, by e-mail: a hot
    read (every new referral tells its receiver), built once, the tenant's criterion
    built in, the roles written in the statement (a list given at each execution is an
    expanding parameter, rendered again into the SQL at each execution)."""
    users = User.__table__
    return tenancy.scoped_select(
        select(users.c.email).where(
            users.c.organisation_id == bindparam("organisation_id"),
            users.c.active.is_(True),
            or_(*(users.c.role == role.value for role in roles)))
        .order_by(users.c.email))


#: Who reads an organisation's notices when it has no address of its own: the CCAS's
#: managers and secretaries, a partner's referrers (by "is the CCAS").
_MEMBERS_EMAILS = {True: _members_emails((Role.manager, Role.secretary)),
                   False: _members_emails((Role.referrer,))}


def organisation_recipients(session, org: Organisation) -> list[str]:
    """Where to write to ``org``: its own address, or else its active managers and
    secretaries (the CCAS) or referrers (a partner)."""
    if org.email:
        return [org.email]
    return [row.email for row in tenancy.scoped_rows(
        session, _MEMBERS_EMAILS[org.kind == OrganisationKind.ccas],
        {"organisation_id": org.id})]


def _purpose_label(value: str) -> str:
    try:
        return PURPOSE_LABELS[Purpose(value)]
    except ValueError:
        return value


def _email(session, to: list[str], subject: str, paragraphs: list[str], url: str | None,
           topic: str) -> None:
    text = "Bonjour,\n\n" + "\n\n".join(paragraphs)
    html = "<p>Bonjour,</p>" + "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    if url:
        text += f"\n\nVoir l'orientation : {url}"
        html += f'<p><a href="{escape(url)}">Voir l\'orientation</a></p>'
    signature = "Ce message est envoyé automatiquement par la plateforme du microcrédit " \
                "personnel accompagné ; merci de ne pas y répondre."
    text += f"\n\n--\n{signature}\n"
    html += f"<hr><p><small>{escape(signature)}</small></p>"
    enqueue_emails(session, to, subject, text, html, topic=topic)


def webhook_data(referral, old_status: str | None = None, with_person: bool = False) -> dict:
    data = {
        "id": str(referral.id),
        "reference": referral.reference,
        "status": str(referral.status),
        "status_label": REFERRAL_STATUS_LABELS[ReferralStatus(referral.status)],
        "updated_at": referral.updated_at.isoformat(),
        "from_organisation": {"id": str(referral.from_organisation_id),
                              "name": referral.from_organisation.name},
        "to_organisation": {"id": str(referral.to_organisation_id),
                            "name": referral.to_organisation.name},
    }
    if old_status is not None:
        data["old_status"] = old_status
    if referral.status == ReferralStatus.declined:
        data["decline_reason"] = referral.decline_reason
    if referral.outcome:
        data["outcome"] = referral.outcome
    if with_person:
        data.update({
            "person": {
                "first_name": referral.first_name, "last_name": referral.last_name,
                "birth_date": referral.birth_date.isoformat() if referral.birth_date else None,
                "phone": referral.phone, "email": referral.email,
            },
            "purpose": referral.purpose,
            "amount_requested": (str(referral.amount_requested)
                                 if referral.amount_requested is not None else None),
            "note": referral.note,
            "extra": referral.extra or {},
        })
    return data


def _webhook(session, org: Organisation, event: str, data: dict, topic: str) -> None:
    if org.webhook_url:
        enqueue_webhook(session, org.webhook_url, event, data, organisation_id=org.id,
                        topic=topic)


@hookimpl(tryfirst=True)
def ccas_referral_received(referral, tenant, session) -> None:
    """The receiving organisation is told (e-mail to its users, webhook)."""
    referral_created(session, tenant, referral)


@hookimpl(tryfirst=True)
def ccas_referral_status_changed(referral, old_status, new_status, message, tenant,
                                 session) -> None:
    """The sending organisation is told at each change (closed-loop feedback)."""
    referral_status_changed(session, tenant, referral, old_status, new_status, message)


def referral_created(session, tenant, referral) -> None:
    to_org = referral.to_organisation
    topic = f"referral:{referral.id}:created"
    amount = (f" pour {formats.money(referral.amount_requested)}"
              if referral.amount_requested is not None else "")
    _email(
        session, organisation_recipients(session, to_org),
        f"Nouvelle orientation {referral.reference} de {referral.from_organisation.name}",
        [f"{referral.from_organisation.name} vous oriente une personne "
         f"({referral.initials}) : objet « {_purpose_label(referral.purpose)} »{amount}.",
         "Merci d'y répondre depuis la plateforme (accepter ou décliner avec un motif)."],
        referral_url(tenant, referral), topic,
    )
    if to_org.webhook_url:  # its data built only for an organisation that takes it
        _webhook(session, to_org, "referral.created",
                 webhook_data(referral, with_person=True), topic)


def referral_status_changed(session, tenant, referral, old_status: str, new_status: str,
                            message: str = "") -> None:
    from_org = referral.from_organisation
    new = ReferralStatus(new_status)
    topic = f"referral:{referral.id}:{new.value}"
    paragraphs = [f"L'orientation {referral.reference} ({referral.initials}) que vous avez "
                  f"adressée à {referral.to_organisation.name} "
                  f"{STATUS_SENTENCES.get(new, 'a changé de statut.')}"]
    if new == ReferralStatus.declined and referral.decline_reason:
        label = reasons.reasons(tenant, "decline").get(referral.decline_reason,
                                                       referral.decline_reason)
        paragraphs.append(f"Motif : {label}.")
    if new == ReferralStatus.done and referral.outcome:
        label = reasons.reasons(tenant, "outcome").get(referral.outcome, referral.outcome)
        paragraphs.append(f"Suite donnée : {label}.")
    if message:
        paragraphs.append(f"Message de {referral.to_organisation.name} : {message}")
    _email(session, organisation_recipients(session, from_org),
           f"Orientation {referral.reference} : {REFERRAL_STATUS_LABELS[new].lower()}",
           paragraphs, referral_url(tenant, referral), topic)
    if from_org.webhook_url:
        _webhook(session, from_org, "referral.status_changed",
                 webhook_data(referral, old_status=old_status), topic)
    if new == ReferralStatus.accepted and referral.email:
        _email(
            session, [referral.email],
            f"Votre orientation vers {referral.to_organisation.name}",
            [f"{referral.from_organisation.name} vous a orienté(e) vers "
             f"{referral.to_organisation.name}, qui a accepté votre demande.",
             f"{referral.to_organisation.name} va prendre contact avec vous prochainement."],
            None, f"referral:{referral.id}:accepted:person",
        )


def referral_reminder(session, tenant, referral) -> None:
    to_org = referral.to_organisation
    topic = f"referral:{referral.id}:reminder"
    tz = clock.zone(tenant)
    created = referral.created_at.astimezone(tz).strftime("%d/%m/%Y")
    _email(
        session, organisation_recipients(session, to_org),
        f"Relance : orientation {referral.reference} sans réponse",
        [f"L'orientation {referral.reference} ({referral.initials}) adressée le {created} "
         f"par {referral.from_organisation.name} attend toujours votre réponse.",
         "Sans réponse, elle expirera automatiquement."],
        referral_url(tenant, referral), topic,
    )
    _webhook(session, to_org, "referral.reminder", webhook_data(referral), topic)
