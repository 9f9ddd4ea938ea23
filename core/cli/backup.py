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
    """Sauvegarder toute la base, ou restaurer une sauvegarde."""


@backup_group.command("create")
@click.option("--output", type=click.Path(dir_okay=False),
              help="Fichier de sauvegarde (défaut : instance/backups/ccas-<date>.sqlite3|dump).")
@friendly
def backup_create(output):
    """Sauvegarder la base (SQLite : sauvegarde à chaud ; PostgreSQL : pg_dump -Fc)."""
    app = _app()
    owner_url = app.config["CCAS_DATABASE_OWNER_URL"]
    if not output:
        output = Path(app.instance_path) / "backups" / backup.default_filename(owner_url)
    path = backup.create(owner_url, output, storage.files_dir(app))
    click.echo(f"Sauvegarde écrite : {path} ({path.stat().st_size} octets) ; pièces "
               f"déposées : {backup.files_archive(path)}.")


@backup_group.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Ne pas demander de confirmation.")
@friendly
def backup_restore(file, yes):
    """Remplacer toute la base par la sauvegarde FILE (tout ce qui a suivi est perdu)."""
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
@click.option("--tenant", "slug", required=True, help="Le territoire à remettre en l'état.")
@click.option("--scratch-url",
              help="PostgreSQL : une base vide où la sauvegarde est d'abord restaurée.")
@click.option("--yes", is_flag=True, help="Ne pas demander de confirmation.")
@friendly
def backup_restore_tenant(file, slug, scratch_url, yes):
    """Remettre un territoire dans l'état de la sauvegarde FILE de la plateforme ; les
    autres ne sont pas touchés."""
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
