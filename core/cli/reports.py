"""``ccas report`` (the yearly review in any format) and ``ccas import cases`` (a city's
legacy spreadsheet)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app

from .. import formats
from ..db import db
from ..importer import rejects_csv, run_import
from ..importer.uploads import store_for
from ..reports import build_report, funder_view
from ..reports.export import export
from .context import app_session, friendly, tenant_context, tenant_option

PROGRESS_FROM = 2000


@click.command("report")
@tenant_option
@click.option("--year", required=True, type=int, help="Année du bilan, par ex. 2018.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx", "md", "pdf"]),
              default="json", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True),
              help="Fichier à écrire (défaut : sortie standard ; obligatoire en xlsx et pdf).")
@click.option("--funder", is_flag=True, help="La vue des financeurs (petits effectifs masqués).")
@friendly
def report(tenant_slug, year, fmt, output, funder):
    """Écrire le bilan annuel d'un territoire (indicateurs définis dans docs/reports.md)."""
    if fmt in ("xlsx", "pdf") and not output:
        raise click.ClickException(f"Le format {fmt} est binaire : indiquez --output FICHIER.")
    if not 1900 <= year <= 2200:
        raise click.ClickException(f"Année invalide : {year}.")
    with tenant_context(tenant_slug) as tenant:
        data = build_report(db.session, tenant, year)
        if funder:
            data = funder_view(data)
        content = export(data, fmt)
    if output:
        Path(output).write_bytes(content)
        click.echo(f"Bilan {year} écrit dans {output}.", err=True)
    else:
        sys.stdout.buffer.write(content)
        if not content.endswith(b"\n"):
            sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()


@click.group("import")
def import_group():
    """Reprise de l'historique."""


@import_group.command("cases")
@tenant_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Tout vérifier, sans rien écrire.")
@click.option("--skip-invalid", is_flag=True,
              help="Écrire les lignes valides ; les rejetées vont dans le fichier de rapport.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False),
              help="CSV des lignes rejetées (défaut avec --skip-invalid : FILE-rejets.csv).")
@friendly
def import_cases(tenant_slug, file, dry_run, skip_invalid, report_path):
    """Importer les demandes d'un fichier CSV (, ; ou tabulation ; UTF-8 ou Windows-1252)
    ou XLSX.

    Sans --skip-invalid, rien n'est écrit si une ligne est invalide. Réimporter le même
    fichier ne crée rien de nouveau.
    """
    path = Path(file)
    data = path.read_bytes()
    with tenant_context(tenant_slug) as tenant:
        bars: list = []

        def progress(done: int, total: int) -> None:
            """A progress bar for the writing of large files."""
            if total <= PROGRESS_FROM:
                return
            if not bars:
                bars.append(click.progressbar(length=total, label="Écriture des dossiers",
                                              file=sys.stderr))
                bars[0].__enter__()
            bars[0].update(done)

        try:
            result = run_import(db.session, tenant, data, path.name, dry_run=dry_run,
                                skip_invalid=skip_invalid, progress=progress)
            if result.written:
                db.session.commit()
            else:
                db.session.rollback()
        except BaseException:
            db.session.rollback()
            raise
        finally:
            if bars:
                bars[0].__exit__(None, None, None)
    for error in result.errors[:50]:
        click.echo(str(error), err=True)
    if len(result.errors) > 50:
        click.echo(f"… et {len(result.errors) - 50} autres erreurs.", err=True)
    if result.errors and (skip_invalid or report_path):
        target = Path(report_path) if report_path else path.with_name(f"{path.stem}-rejets.csv")
        target.write_bytes(rejects_csv(result))
        click.echo(f"Lignes rejetées écrites dans {target}.", err=True)
    click.echo(result.summary())
    if dry_run:
        click.echo("Simulation : rien n'a été enregistré.")
    elif result.errors and not skip_invalid:
        raise click.ClickException(
            "Des lignes sont invalides : rien n'a été enregistré. Corrigez-les, ou relancez "
            "avec --skip-invalid pour importer les lignes valides."
        )


@import_group.command("sweep")
@friendly
def import_sweep():
    """Supprimer les fichiers déposés jamais confirmés après CCAS_IMPORT_TTL_HOURS."""
    with app_session():
        store = store_for(current_app)
        removed = store.sweep()
    click.echo(f"{formats.plural(removed, 'fichier', 'fichiers')} en attente supprimé"
               f"{'s' if removed > 1 else ''} (plus de "
               f"{store.ttl_seconds / 3600:g} h) dans {store.root}.")
