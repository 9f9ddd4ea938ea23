"""``ccas plugins`` (installed plugins, per-tenant enablement and settings) and ``ccas
plugin`` (the plugin developer kit: hook reference, scaffold)."""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from .. import audit, plugins
from ..db import db as database
from ..models import PluginState
from ..plugins.hookdocs import render_reference
from ..plugins.scaffold import create
from .context import _app, friendly, tenant_context, tenant_option

# -- plugins --------------------------------------------------------------------------------


@click.group("plugins")
def plugins_group():
    """Extensions installées, leur activation et leurs réglages par territoire."""


@plugins_group.command("list")
@click.option("--tenant", "tenant_slug", help="Indiquer l'activation pour ce territoire.")
@friendly
def plugins_list(tenant_slug):
    """Lister les extensions installées (et leur activation pour le territoire)."""
    app = _app()
    reg = app.extensions["ccas_plugins"]
    enabled: frozenset[str] = frozenset()
    if tenant_slug:
        with tenant_context(tenant_slug):
            enabled = plugins.enabled_plugins()
    for name, p in sorted(reg.plugins.items()):
        if not p.usable:
            click.echo(f"{name}\tREFUSÉE\t{p.refused}")
            continue
        state = ("activée" if name in enabled else "désactivée") if tenant_slug else ""
        click.echo(f"{name}\t{p.info.version}\t{p.info.label}\t{state}".rstrip())


def _set_enabled(tenant_slug: str, name: str, enabled: bool) -> None:
    with tenant_context(tenant_slug):
        plugins.set_enabled(database.session, name, enabled)
        audit.record(database.session, "plugin.enable" if enabled else "plugin.disable", None,
                     plugin=name)
        database.session.commit()
    click.echo(f"Extension {name} {'activée' if enabled else 'désactivée'} pour {tenant_slug}.")


@plugins_group.command("enable")
@tenant_option
@click.argument("name")
@friendly
def plugins_enable(tenant_slug, name):
    """Activer l'extension NAME pour un territoire."""
    _set_enabled(tenant_slug, name, True)


@plugins_group.command("disable")
@tenant_option
@click.argument("name")
@friendly
def plugins_disable(tenant_slug, name):
    """Désactiver l'extension NAME pour un territoire."""
    _set_enabled(tenant_slug, name, False)


@plugins_group.command("settings")
@tenant_option
@click.argument("name")
@click.option("--set", "changes", multiple=True, metavar="KEY=VALUE",
              help="Changer un réglage (répétable) ; valeur JSON ou texte.")
@friendly
def plugins_settings(tenant_slug, name, changes):
    """Afficher ou changer les réglages de l'extension NAME pour un territoire (vérifiés)."""
    parsed = {}
    for change in changes:
        key, sep, value = change.partition("=")
        if not sep or not key.strip():
            raise click.ClickException(f"Attendu KEY=VALUE, reçu {change!r}.")
        try:
            parsed[key.strip()] = json.loads(value)
        except ValueError:
            parsed[key.strip()] = value
    with tenant_context(tenant_slug):
        if parsed:
            stored = plugins.update_settings(database.session, name, parsed)
            audit.record(database.session, "plugin.settings", None, plugin=name, settings=stored)
            database.session.commit()
        else:
            plugins.registry().get(name)
            state = database.session.scalar(
                select(PluginState).where(PluginState.plugin_name == name)
            )
            stored = plugins.registry().validate_settings(name, state.settings if state else {})
    click.echo(json.dumps(stored, ensure_ascii=False, indent=2, sort_keys=True))


# -- plugin developer kit --------------------------------------------------------------------


@click.group("plugin")
def plugin_group():
    """Outils du développeur d'extensions."""


@plugin_group.command("docs")
@click.option("--output", type=click.Path(dir_okay=False), default="docs/hooks.md",
              show_default=True)
def plugin_docs(output):
    """Générer la référence des hooks (core/hookspecs.py et hooks des extensions)."""
    registry = plugins.PluginRegistry()
    registry.load_entry_points()
    with open(output, "w", encoding="utf-8") as fh:
        fh.write(render_reference(registry))
    click.echo(f"Référence des hooks écrite dans {output}.")


@plugin_group.command("new")
@click.argument("name")
@click.option("--output", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Dossier où créer ccas-plugin-NAME.")
@friendly
def plugin_new(name, output):
    """Créer le squelette d'une extension installable NAME (puis : pip install -e)."""

    target = create(name, output)
    click.echo(f"Extension {name} créée dans {target}.")
    click.echo(f"Ensuite : pip install -e {target} && ccas plugins list")
