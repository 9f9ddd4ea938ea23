"""``ccas backup create`` / ``restore`` (the whole platform, ``core.backup``) and
``restore-tenant`` (one city, ``core.portability.restore``)."""

from __future__ import annotations

from pathlib import Path

import click

from .. import backup, formats, storage
from ..db import db
from ..portability.restore import restore_tenant
from .context import _app, friendly, owner_session


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
    path = backup.create(owner_url, output, storage.files_dir(app))
    click.echo(f"Sauvegarde écrite : {path} ({path.stat().st_size} octets) ; pièces "
               f"déposées : {backup.files_archive(path)}.")


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
    backup.restore(app.config["CCAS_DATABASE_OWNER_URL"], file, storage.files_dir(app))

    db.dispose()  # no pooled connection keeps the old tables
    click.echo(f"Sauvegarde restaurée : {file}. Redémarrez l'application.")


@backup_group.command("restore-tenant")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--tenant", "slug", required=True, help="The city to put back as it was.")
@click.option("--scratch-url",
              help="PostgreSQL: an empty database the backup is restored into first.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@friendly
def backup_restore_tenant(file, slug, scratch_url, yes):
    """Put one city back as it was in the whole-platform backup FILE; the others are
    not touched."""
    app = _app()
    if not yes:
        click.confirm(f"Les données actuelles du territoire {slug} seront remplacées par "
                      "celles de la sauvegarde. Continuer ?", abort=True)
    with owner_session() as session:
        result = restore_tenant(session, app.config["CCAS_DATABASE_OWNER_URL"], file, slug,
                                scratch_url)
        session.commit()
    click.echo(f"Territoire {slug} restauré depuis {file} ("
               f"{formats.plural(result['replaced'], 'ligne remplacée', 'lignes remplacées')}).")
