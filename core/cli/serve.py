"""``ccas serve`` (the development server) and ``ccas demo`` (the demonstration city)."""

from __future__ import annotations

import click
from werkzeug.serving import run_simple

from .. import demo as demo_module
from .context import _app, app_session, friendly

# -- serving and demo ------------------------------------------------------------------------


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host, port):
    """Servir l'application (serveur de développement ; en production : gunicorn)."""

    app = _app()
    if app.config["CCAS_ENV"] == "production":
        raise click.ClickException(
            "« ccas serve » est le serveur de développement. En production : "
            "gunicorn -c python:core.gunicorn_conf core.wsgi:app (docs/deployment.md)."
        )
    click.echo(f"http://{host}:{port}/")
    run_simple(host, port, app, threaded=True, use_reloader=False)


@click.command()
@click.option("--password", default=None,
              help="Mot de passe de tous les comptes de démonstration.")
@click.option("--empty", is_flag=True,
              help="Seulement le territoire, ses partenaires et les comptes (sans activité).")
@click.option("--seed", default=demo_module.DEFAULT_SEED, show_default=True, type=int,
              help="Graine de l'activité générée (même graine, mêmes données).")
@click.option("--years", default=2.0, show_default=True, type=click.FloatRange(0.1, 50),
              help="Années d'activité, jusqu'à aujourd'hui.")
@click.option("--requests-per-year", default=400, show_default=True,
              type=click.IntRange(1, 1_000_000), help="Demandes par an.")
@friendly
def demo(password, empty, seed, years, requests_per_year):
    """Créer le territoire de démonstration « toulouse » (extensions, partenaires, un
    compte par rôle) avec deux ans d'activité jusqu'à aujourd'hui. Relancée, la commande
    garde tout et n'ajoute rien à un territoire qui a déjà des dossiers."""

    with app_session() as session:
        result = demo_module.create_demo(session, password, empty=empty, seed=seed,
                                         years=years, requests_per_year=requests_per_year)
        session.commit()
        summary = result["summary"]
        lines = demo_module.summary_lines(summary) if summary is not None else []
    click.echo("Territoire de démonstration « toulouse » prêt.")
    if summary is not None:
        if summary.generated:
            click.echo(f"Activité générée (graine {summary.seed}, jusqu'au "
                       f"{summary.today:%d/%m/%Y}) :")
        else:
            click.echo("Le territoire a déjà des dossiers : rien n'a été ajouté.")
        for line in lines:
            click.echo("  " + line)
    click.echo("Comptes (mot de passe commun : %s) :" % result["password"])
    for line in result["accounts"]:
        click.echo("  " + line)
