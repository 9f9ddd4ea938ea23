"""``ccas purge``: anonymise the people past the tenant's retention (RGPD)."""

from __future__ import annotations

import sys

import click

from .. import formats
from ..db import db
from ..privacy import purge
from .context import friendly, tenant_context, tenant_option


@click.command("purge")
@tenant_option
@click.option("--dry-run", is_flag=True, help="Compter ce qui serait anonymisé, sans rien écrire.")
@friendly
def purge_command(tenant_slug, dry_run):
    """Anonymiser les personnes dont le dernier contact dépasse la durée de conservation
    (réglage privacy.retention_months, 24 mois par défaut), sauf prêt en cours, et les
    orientations restées sans demande au-delà de cette durée."""
    with tenant_context(tenant_slug) as tenant:
        session = db.session
        due = purge.due_persons(session, tenant)
        due_referrals = purge.due_referrals(session, tenant)
        months = purge.retention_months(tenant)
        click.echo(f"Conservation : {months} mois après le dernier contact ; "
                   f"{formats.plural(len(due), 'personne', 'personnes')} et "
                   f"{formats.plural(len(due_referrals), 'orientation', 'orientations')} "
                   "sans demande au-delà.")
        with click.progressbar(length=len(due) + len(due_referrals), label="Anonymisation",
                               file=sys.stderr) as bar:
            summary = purge.purge(session, tenant, dry_run=dry_run,
                                  progress=lambda _subject: bar.update(1))
        if dry_run:
            session.rollback()
        else:
            session.commit()
        verb = "seraient anonymisées" if dry_run else "anonymisées"
        click.echo(f"Personnes {verb} : {summary.anonymised}.")
        click.echo(f"Orientations sans demande {verb} : {summary.referrals}.")
        for reason, count in sorted(summary.kept.items()):
            click.echo(f"Conservées ({count}) : {reason}")
        if summary.rows:
            click.echo("Lignes touchées par table :")
            for table, count in sorted(summary.rows.items()):
                if count:
                    click.echo(f"  {table} : {count}")
        if dry_run:
            click.echo("Simulation (--dry-run) : rien n'a été écrit.")
