"""``ccas backup create`` / ``ccas backup restore``: see ``core.backup``."""

from __future__ import annotations

from pathlib import Path

import click

from .. import backup
from ..db import db
from .context import _app, friendly


@click.group("backup")
def backup_group():
    """Back up the whole database, or restore a backup."""


@backup_group.command("create")
@click.option("--output", type=click.Path(dir_okay=False),
              help="Backup file (default: instance/backups/ccas-<date>.sqlite3|dump).")
@friendly
def backup_create(output):
    """Back up the database (SQLite online backup; PostgreSQL pg_dump -Fc)."""
    app = _app()
    owner_url = app.config["CCAS_DATABASE_OWNER_URL"]
    if not output:
        output = Path(app.instance_path) / "backups" / backup.default_filename(owner_url)
    path = backup.create(owner_url, output)
    click.echo(f"Sauvegarde écrite : {path} ({path.stat().st_size} octets).")


@backup_group.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@friendly
def backup_restore(file, yes):
    """Replace the whole database by the backup FILE (everything since it is lost)."""
    app = _app()
    if not yes:
        click.confirm(
            "Toutes les données actuelles seront remplacées par celles de la sauvegarde. "
            "Continuer ?", abort=True,
        )
    backup.restore(app.config["CCAS_DATABASE_OWNER_URL"], file)

    db.dispose()  # no pooled connection keeps the old tables
    click.echo(f"Sauvegarde restaurée : {file}. Redémarrez l'application.")
