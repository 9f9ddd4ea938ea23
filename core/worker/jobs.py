"""The core's scheduled jobs, declared through ``ccas_scheduled_jobs`` like a plugin's
(this module is an internal plugin: its jobs run for every tenant).

=====================  ==================  ==============================================
job                    default schedule    what it does
=====================  ==================  ==============================================
outbox.drain           every minute        delivers the e-mails and webhooks that are due
appointments.remind    every hour          e-mail reminders 48 hours before appointments
referrals.remind       daily, 05:00 UTC    reminds and expires unanswered referrals, purges
                                           spent idempotency keys and form tokens
privacy.purge          daily, 02:00 UTC    anonymises the people past retention (RGPD)
imports.sweep          every hour          removes uploads never confirmed (platform)
worker.prune           daily, 03:00 UTC    forgets job runs older than 30 days (platform)
=====================  ==================  ==============================================
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete

from ..api import idempotency
from ..features import reminders
from ..formats import plural
from ..hookspecs import hookimpl
from ..importer.uploads import store_for
from ..models import JobRun, WorkerHeartbeat
from ..outbox import delivery
from ..plugins.types import ScheduledJob
from ..privacy import purge
from ..referrals import remind_and_expire
from ..web import form_tokens

KEEP_RUNS = timedelta(days=30)
KEEP_SILENT_WORKERS = timedelta(days=7)


def outbox_drain(session, now: datetime) -> str | None:
    stats = delivery.drain_tenant(current_app._get_current_object(), session, now)
    if not (stats.sent or stats.retried or stats.dead):
        return None
    return (f"{plural(stats.sent, 'envoyé', 'envoyés')}, {stats.retried} à retenter, "
            f"{plural(stats.dead, 'abandonné', 'abandonnés')}")


def referrals_upkeep(tenant, session, now: datetime | None = None) -> str:
    """Reminders and expiry of the referrals, spent idempotency keys and form tokens of
    the current tenant (also ``ccas referrals remind``); the caller commits."""
    reminded, expired = remind_and_expire(session, tenant, now)
    keys = idempotency.purge_expired(session, now)
    tokens = form_tokens.purge_expired(session, now)
    return (f"{plural(reminded, 'relance', 'relances')}, "
            f"{plural(expired, 'expiration', 'expirations')}, "
            f"{plural(keys, 'clé d’idempotence purgée', 'clés d’idempotence purgées')}, "
            f"{plural(tokens, 'jeton de formulaire purgé', 'jetons de formulaire purgés')}")


def appointments_remind(tenant, session, now: datetime) -> str | None:
    result = reminders.remind(session, tenant, now)
    if not (result.queued or result.no_email):
        return None
    return (f"{plural(result.queued, 'rappel mis', 'rappels mis')} en file, "
            f"{len(result.no_email)} sans adresse e-mail")


def privacy_purge(tenant, session, now: datetime) -> str | None:
    summary = purge.purge(session, tenant, now=now)
    if not (summary.anonymised or summary.referrals):
        return None
    return (f"{plural(summary.anonymised, 'personne', 'personnes')} et "
            f"{plural(summary.referrals, 'orientation', 'orientations')} anonymisées")


def imports_sweep() -> str | None:
    removed = store_for(current_app).sweep()
    if not removed:
        return None
    return plural(removed, "fichier en attente supprimé", "fichiers en attente supprimés")


def worker_prune(session, now: datetime) -> str | None:
    runs = session.execute(delete(JobRun).where(JobRun.started_at < now - KEEP_RUNS)).rowcount
    workers = session.execute(delete(WorkerHeartbeat).where(
        WorkerHeartbeat.seen_at < now - KEEP_SILENT_WORKERS)).rowcount
    if not (runs or workers):
        return None
    return (f"{plural(runs, 'exécution oubliée', 'exécutions oubliées')}, "
            f"{plural(workers, 'worker silencieux oublié', 'workers silencieux oubliés')}")


@hookimpl
def ccas_scheduled_jobs():
    minute, hour, day = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
    return [
        ScheduledJob("outbox.drain", outbox_drain, every=minute,
                     label="Envoi des e-mails et webhooks"),
        ScheduledJob("appointments.remind", appointments_remind, every=hour,
                     label="Rappels de rendez-vous"),
        ScheduledJob("referrals.remind", referrals_upkeep, every=day, at=timedelta(hours=5),
                     label="Relances et expiration des orientations"),
        ScheduledJob("privacy.purge", privacy_purge, every=day, at=timedelta(hours=2),
                     label="Anonymisation au-delà de la durée de conservation",
                     while_suspended=True),
        ScheduledJob("imports.sweep", imports_sweep, every=hour, per_tenant=False,
                     label="Nettoyage des imports non confirmés"),
        ScheduledJob("worker.prune", worker_prune, every=day, at=timedelta(hours=3),
                     per_tenant=False, label="Nettoyage du journal des tâches"),
    ]
