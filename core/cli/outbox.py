"""``ccas outbox drain`` (deliver e-mails and webhooks) and ``ccas referrals …``
(reminders and expiry, a partner's webhook endpoint).

The worker (``ccas worker``, ``core.worker.jobs``) runs both on their schedules; these
commands run them by hand (several drains at once are safe, see ``core.outbox.delivery``).
"""

from __future__ import annotations

import secrets
import signal
import threading
from urllib.parse import urlsplit

import click
from flask import current_app, g
from sqlalchemy import select

from .. import accounts, audit, tenancy
from ..db import db
from ..errors import UserError
from ..models import Tenant
from ..outbox import delivery
from ..worker.jobs import referrals_upkeep
from .context import app_session, friendly, tenant_context


@click.group("outbox")
def outbox_group():
    """Notifications en attente d'envoi."""


@outbox_group.command("drain")
@click.option("--once/--loop", default=True, show_default=True,
              help="Un seul passage (défaut) ou en boucle.")
@click.option("--interval", type=click.FloatRange(min=0.5), default=10.0, show_default=True,
              help="Secondes entre deux passages (--loop).")
@click.option("--tenant", "tenant_slugs", multiple=True,
              help="Limiter à ces territoires (par défaut : tous).")
@friendly
def drain(once, interval, tenant_slugs):
    """Envoyer les e-mails et webhooks dus (SMTP, HTTP signé)."""
    with app_session():
        app = current_app._get_current_object()

        def report(stats):
            click.echo(f"Envoyés : {stats.sent}, à retenter : {stats.retried}, "
                       f"abandonnés : {stats.dead}.")

        if once:
            report(delivery.drain(app, tenant_slugs=list(tenant_slugs) or None))
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        click.echo(f"Distribution en boucle toutes les {interval:g} s (Ctrl+C pour arrêter).")
        while not stop.is_set():
            report(delivery.drain(app, tenant_slugs=list(tenant_slugs) or None))
            stop.wait(interval)


@click.group("referrals")
def referrals_group():
    """Orientations des partenaires."""


@referrals_group.command("remind")
@click.option("--tenant", "tenant_slugs", multiple=True,
              help="Limiter à ces territoires (par défaut : tous).")
@friendly
def remind(tenant_slugs):
    """Relancer les orientations sans réponse, faire expirer les anciennes, purger les clés
    d'idempotence et jetons de formulaire périmés."""
    with app_session() as session:
        stmt = select(Tenant).order_by(Tenant.slug)
        if tenant_slugs:
            stmt = stmt.where(Tenant.slug.in_(tenant_slugs))
        tenants = session.scalars(stmt).all()
        for tenant in tenants:
            with tenancy.tenant_scope(tenant.id):
                g.tenant = tenant
                summary = referrals_upkeep(tenant, session)
                session.commit()
            click.echo(f"{tenant.slug} : {summary}.")


@referrals_group.command("webhook")
@click.option("--tenant", "slug", required=True, help="Territoire.")
@click.option("--org", "org_name", required=True, help="Nom de l'organisation.")
@click.option("--url", default="", help="Adresse https du webhook (vide : désactiver).")
@click.option("--new-secret", is_flag=True, help="Générer un nouveau secret de signature.")
@friendly
def webhook(slug, org_name, url, new_secret):
    """Régler l'adresse de webhook d'une organisation ; affiche le secret une seule fois."""
    with tenant_context(slug):
        session = db.session
        org = accounts.get_organisation(session, org_name)
        url = url.strip()
        if url:
            parts = urlsplit(url)
            if parts.scheme not in ("https", "http") or not parts.hostname:
                raise UserError("Adresse de webhook invalide (http:// ou https:// attendu).")
        org.webhook_url = url or None
        shown = None
        if url and (new_secret or not org.webhook_secret):
            org.webhook_secret = shown = secrets.token_urlsafe(32)
        audit.record(session, "organisation.webhook", org, url=url or None,
                     new_secret=bool(shown))
        session.commit()
        if not url:
            click.echo(f"Webhook désactivé pour {org.name}.")
            return
        click.echo(f"Webhook de {org.name} : {url}")
        if shown:
            click.echo(f"Secret de signature (à transmettre au partenaire, affiché une seule "
                       f"fois) : {shown}")
