"""Reminders to the person 48 hours before an appointment: an e-mail with the ICS
attached; for a person without e-mail but with a phone, a text message when an enabled
plugin provides SMS (hook ``ccas_sms_send``, sent by the outbox); the others are listed
to phone, and :func:`letters` gives the printable letters for those with neither.

The worker runs :func:`remind` every hour for each tenant (job ``appointments.remind``);
``ccas appointments remind`` goes through every tenant by hand, each in its own tenant
scope and transaction. Each run queues one e-mail in the outbox
for each planned appointment starting within the next 48 hours that has no reminder yet;
``reminder_sent_at`` makes it idempotent (running it twice queues nothing more).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import g
from sqlalchemy import select

from .. import audit, clock, plugins, tenancy
from ..db import db
from ..errors import UserError
from ..models import Appointment, AppointmentMode, AppointmentStatus, Tenant
from ..outbox import enqueue_email, enqueue_sms
from . import appointments as appts

REMINDER_WINDOW = timedelta(hours=48)


@dataclass
class RemindResult:
    queued: int = 0
    #: Text messages queued (people without e-mail, an SMS provider enabled).
    sms: int = 0
    #: Appointments whose person has no e-mail address (phone them).
    no_email: list = field(default_factory=list)


def due(session, now: datetime) -> list[Appointment]:
    """Planned appointments of the current tenant starting within 48 h, not yet reminded."""
    return list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.status == AppointmentStatus.planned,
                Appointment.reminder_sent_at.is_(None),
                Appointment.starts_at > now,
                Appointment.starts_at <= now + REMINDER_WINDOW,
            )
            .order_by(Appointment.starts_at)
            .with_for_update(skip_locked=True)
        )
    )


def reminder_text(appointment: Appointment, tenant) -> tuple[str, str]:
    start = appts.local(appointment.starts_at, tenant)
    worker = appointment.social_worker
    who = (worker.full_name if worker else "") or "le travailleur social"
    if appointment.mode == AppointmentMode.phone:
        where = "Le rendez-vous a lieu par téléphone : le CCAS vous appellera."
    else:
        where = f"Lieu : {appointment.place}"
    person = appointment.case.person
    subject = f"{tenant.name} – rappel de votre rendez-vous du {start:%d/%m/%Y à %H:%M}"
    text = "\n".join([
        f"Bonjour {person.full_name},",
        "",
        f"Nous vous rappelons votre rendez-vous le {start:%d/%m/%Y à %H:%M} avec {who} "
        f"(durée prévue : {appointment.duration_minutes} minutes).",
        where,
        "",
        "Pensez à apporter les pièces demandées. En cas d'empêchement, merci de prévenir le "
        "CCAS au plus vite.",
        "",
        "Le fichier joint ajoute ce rendez-vous à votre agenda.",
        "",
        tenant.name,
    ])
    return subject, text


def sms_text(appointment: Appointment, tenant) -> str:
    start = appts.local(appointment.starts_at, tenant)
    where = ("par téléphone (le CCAS vous appelle)"
             if appointment.mode == AppointmentMode.phone else appointment.place)
    return (f"{tenant.name} : rappel de votre rendez-vous le {start:%d/%m/%Y à %H:%M}, "
            f"{where}. En cas d'empêchement, prévenez le CCAS.")


def sms_available() -> bool:
    """Whether an enabled plugin of the current tenant sends text messages."""
    return bool(plugins.hooks().ccas_sms_send.plugins())


def remind(session, tenant, now: datetime | None = None) -> RemindResult:
    """Queue the reminders of the current tenant (the caller set its scope and commits)."""
    now = now or clock.now()
    result = RemindResult()
    can_sms = sms_available()
    for appointment in due(session, now):
        person = appointment.case.person
        if not person.email and person.phone and can_sms:
            enqueue_sms(session, person.phone, sms_text(appointment, tenant),
                        topic=f"appointment:{appointment.id}:reminder")
            appointment.reminder_sent_at = now
            audit.record(session, "appointment.reminder", appointment,
                         case_id=appointment.case_id, channel="sms")
            result.sms += 1
            continue
        if not person.email:
            result.no_email.append(appointment)
            continue
        subject, text = reminder_text(appointment, tenant)
        enqueue_email(
            session, person.email, subject, text,
            attachments=[("rendez-vous.ics", "text/calendar; charset=utf-8; method=PUBLISH",
                          appts.ics_text(appointment, tenant, stamp=now).encode("utf-8"))],
            topic=f"appointment:{appointment.id}:reminder",
        )
        appointment.reminder_sent_at = now
        audit.record(session, "appointment.reminder", appointment, case_id=appointment.case_id,
                     to=person.email)
        result.queued += 1
    return result


LETTER_WINDOW = timedelta(days=14)


def letters(session, tenant, now: datetime | None = None) -> list[tuple[Appointment, str]]:
    """The reminder letters to print and post: planned appointments of the next 14 days,
    not yet reminded, of people with neither e-mail nor (when no SMS provider is enabled)
    a phone we could text. ``(appointment, text)``, earliest first."""
    now = now or clock.now()
    can_sms = sms_available()
    rows = session.scalars(
        select(Appointment).where(
            Appointment.status == AppointmentStatus.planned,
            Appointment.reminder_sent_at.is_(None),
            Appointment.starts_at > now, Appointment.starts_at <= now + LETTER_WINDOW,
        ).order_by(Appointment.starts_at))
    out = []
    for appointment in rows:
        person = appointment.case.person
        if person.email or (person.phone and can_sms):
            continue
        out.append((appointment, reminder_text(appointment, tenant)[1]))
    return out


def remind_all_tenants(now: datetime | None = None, only: str | None = None) -> dict:
    """Run :func:`remind` for each tenant (or ``only`` the slug given), committing each."""
    now = now or clock.now()
    query = select(Tenant).order_by(Tenant.slug)
    if only:
        query = query.where(Tenant.slug == only)
    tenants = db.session.scalars(query).all()
    if only and not tenants:
        raise UserError(f"Territoire inconnu : {only}.")
    report = {}
    for tenant in tenants:
        with tenancy.tenant_scope(tenant.id):
            previous = g.get("tenant")
            g.tenant = tenant
            try:
                result = remind(db.session, tenant, now)
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
            finally:
                g.tenant = previous
        report[tenant.slug] = result
    return report
