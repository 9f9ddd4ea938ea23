"""``ccas appointments remind``: the e-mail reminders 48 hours before an appointment
(``core.features.reminders``), by hand; the worker runs them every hour."""

from __future__ import annotations

from datetime import datetime

import click

from .. import formats
from ..features.reminders import remind_all_tenants
from .context import app_session, friendly


@click.group("appointments")
def appointments_cli():
    """Rendez-vous avec le travailleur social."""


@appointments_cli.command("remind")
@click.option("--tenant", "tenant_slug", help="Seulement ce territoire (par défaut : tous).")
@click.option("--now", "now_text", help="Instant de référence, ISO 8601 avec fuseau (tests).")
def remind_command(tenant_slug, now_text):
    """Mettre en file les rappels par e-mail des rendez-vous des 48 heures à venir (une
    fois chacun)."""
    @friendly
    def run():
        now = None
        if now_text:
            try:
                now = datetime.fromisoformat(now_text)
            except ValueError as exc:
                raise click.ClickException(f"Date invalide : {now_text!r}.") from exc
            if now.tzinfo is None:
                raise click.ClickException("Indiquez le fuseau (ex. 2027-01-05T09:00+01:00).")
        with app_session():
            report = remind_all_tenants(now, tenant_slug)
        for slug, result in report.items():
            line = f"{slug} : {formats.plural(result.queued, 'rappel mis', 'rappels mis')} en file"
            if result.sms:
                line += f", {formats.plural(result.sms, 'SMS', 'SMS')} en file"
            if result.no_email:
                line += f", {len(result.no_email)} sans adresse e-mail (à appeler)"
            click.echo(line + ".")

    run()
