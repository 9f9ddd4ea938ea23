"""``ccas appointments remind``: the e-mail reminders 48 hours before an appointment
(``core.features.reminders``), from cron or a process manager."""

from __future__ import annotations

from datetime import datetime

import click

from .. import formats
from ..features.reminders import remind_all_tenants
from .context import app_session, friendly


@click.group("appointments")
def appointments_cli():
    """Appointments with the social worker."""


@appointments_cli.command("remind")
@click.option("--tenant", "tenant_slug", help="Only this tenant (default: every tenant).")
@click.option("--now", "now_text", help="Reference time, ISO 8601 with offset (tests).")
def remind_command(tenant_slug, now_text):
    """Queue the e-mail reminders of appointments starting within 48 hours (idempotent)."""
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
