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
@click.option("--password", default=None, help="Mot de passe de tous les comptes de démonstration.")
@friendly
def demo(password):
    """Créer (ou compléter) le territoire de démonstration « toulouse » : extensions,
    partenaires, comptes."""

    with app_session() as session:
        logins = demo_module.create_demo(session, password)
        session.commit()
    click.echo("Territoire de démonstration « toulouse » prêt.")
    click.echo("Comptes (mot de passe commun : %s) :" % logins["password"])
    for line in logins["accounts"]:
        click.echo("  " + line)
