"""The ``ccas`` command. Messages in French; exit code 1 on user error; no tracebacks."""

from __future__ import annotations

import functools
import json
import sys
from contextlib import contextmanager

import click
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from .. import accounts, audit, plugins, tenancy
from ..errors import UserError


def _app():
    ctx = click.get_current_context()
    root = ctx.find_root()
    root.obj = root.obj or {}
    if "app" not in root.obj:
        from ..app import create_app

        try:
            root.obj["app"] = create_app()
        except Exception as exc:  # noqa: BLE001 - configuration problems are user errors
            raise click.ClickException(f"Configuration invalide : {exc}") from exc
    return root.obj["app"]


def friendly(fn):
    """Turn user errors into ``Error: …`` + exit 1, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            raise click.ClickException(exc.message) from exc
        except plugins.PluginError as exc:
            raise click.ClickException(exc.message) from exc
        except OperationalError as exc:
            raise click.ClickException(
                "Base de données injoignable ou non initialisée (lancez « ccas db upgrade ») : "
                f"{str(exc.orig).splitlines()[0] if exc.orig else exc}"
            ) from exc

    return wrapper


@contextmanager
def app_session():
    """The app context and its session (no tenant)."""
    app = _app()
    with app.app_context():
        from ..db import db

        yield db.session


@contextmanager
def tenant_context(slug: str):
    """App context + tenant scope for ``slug``; yields the ``Tenant``."""
    with app_session() as session:
        tenant = accounts.get_tenant(session, slug)
        with tenancy.tenant_scope(tenant.id):
            from flask import g

            g.tenant = tenant
            yield tenant


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ccas-network")
def main():
    """ccas-network: accompanied personal microcredit for CCAS and their partners."""


# -- database -------------------------------------------------------------------------------


@main.group()
def db():
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@friendly
def db_upgrade():
    """Upgrade the database to the latest schema (idempotent)."""
    from .. import migrate

    app = _app()
    app_url = app.config["CCAS_DATABASE_URL"]
    owner_url = app.config["CCAS_DATABASE_OWNER_URL"]
    migrate.upgrade(owner_url, migrate.app_role_of(app_url, owner_url))
    click.echo("Base de données à jour.")


# -- tenants --------------------------------------------------------------------------------


@main.group()
def tenant():
    """Tenants (one per municipality)."""


@tenant.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Display name, e.g. 'CCAS de Lyon'.")
@click.option("--city", help="City (defaults to the name).")
@click.option("--timezone", default="Europe/Paris", show_default=True)
@friendly
def tenant_create(slug, name, city, timezone):
    """Create tenant SLUG with its own CCAS organisation."""
    with app_session() as session:
        t = accounts.create_tenant(session, slug, name, city, timezone)
        with tenancy.tenant_scope(t.id):
            accounts.create_organisation(session, f"CCAS de {t.city}", "ccas")
            session.commit()
        click.echo(f"Territoire créé : {t.slug} ({t.name}), adresse /t/{t.slug}/")


@tenant.command("list")
@friendly
def tenant_list():
    """List tenants."""
    from ..models import Tenant

    with app_session() as session:
        rows = session.scalars(select(Tenant).order_by(Tenant.slug)).all()
        if not rows:
            click.echo("Aucun territoire.")
        for t in rows:
            click.echo(f"{t.slug}\t{t.name}\t{t.city}\t{t.timezone}")


# -- organisations and users ----------------------------------------------------------------


@main.group()
def org():
    """Organisations of a tenant's network."""


@org.command("create")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--name", required=True)
@click.option("--kind", required=True, help="ccas, lender, aid_fund, association, funder, other")
@click.option("--plugin", "plugin_name", help="Plugin representing this organisation.")
@click.option("--email", help="Contact address for notifications.")
@friendly
def org_create(tenant_slug, name, kind, plugin_name, email):
    """Create an organisation in a tenant."""
    with tenant_context(tenant_slug):
        from ..db import db as database

        o = accounts.create_organisation(database.session, name, kind, plugin_name, email)
        database.session.commit()
        click.echo(f"Organisation créée : {o.name} ({o.kind.value})")


@org.command("list")
@click.option("--tenant", "tenant_slug", required=True)
@friendly
def org_list(tenant_slug):
    """List a tenant's organisations."""
    from ..models import Organisation

    with tenant_context(tenant_slug):
        from ..db import db as database

        for o in database.session.scalars(select(Organisation).order_by(Organisation.name)):
            click.echo(f"{o.name}\t{o.kind.value}\t{o.plugin_name or ''}")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)


@main.group()
def user():
    """User accounts."""


@user.command("create")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--email", required=True)
@click.option("--role", required=True,
              help="manager, secretary, social_worker, lender_agent, referrer, funder")
@click.option("--org", "org_name", required=True, help="Organisation name.")
@click.option("--name", "full_name", default="", help="Full name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@friendly
def user_create(tenant_slug, email, role, org_name, full_name, password_stdin):
    """Create a user (password from a prompt or --password-stdin)."""
    with tenant_context(tenant_slug):
        from ..db import db as database

        accounts.parse_role(role)  # fail before asking for a password
        password = _read_password(password_stdin)
        u = accounts.create_user(database.session, email, role, org_name, password, full_name)
        database.session.commit()
        click.echo(f"Compte créé : {u.email} ({u.role.value}, {u.organisation.name})")


@user.command("deactivate")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--email", required=True)
@friendly
def user_deactivate(tenant_slug, email):
    """Deactivate a user: ends its sessions; its API tokens stop working."""
    with tenant_context(tenant_slug):
        from ..db import db as database

        u = accounts.get_user(database.session, email)
        accounts.deactivate_user(database.session, u)
        database.session.commit()
        click.echo(f"Compte désactivé : {u.email}")


@main.group()
def operator():
    """Platform operators (no tenant)."""


@operator.command("create")
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True)
@friendly
def operator_create(email, password_stdin):
    """Create a platform operator."""
    with app_session() as session:
        o = accounts.create_operator(session, email, _read_password(password_stdin))
        session.commit()
        click.echo(f"Opérateur créé : {o.email}")


@operator.command("reset-totp")
@click.option("--email", required=True)
@friendly
def operator_reset_totp(email):
    """Remove an operator's second factor (lost phone and recovery codes); with
    CCAS_OPERATOR_TOTP_REQUIRED they enrol again at the next sign-in."""
    from sqlalchemy import func, select

    from ..accounts import totp
    from ..models import Operator

    with app_session() as session:
        found = session.scalar(select(Operator).where(func.lower(Operator.email) == email.lower()))
        if found is None:
            raise click.ClickException(f"Aucun opérateur avec l'adresse {email}.")
        if not totp.is_enabled(session, found):
            click.echo(f"{found.email} n'a pas de second facteur : rien à faire.")
            return
        totp.disable(session, found)
        session.commit()
        click.echo(f"Second facteur supprimé pour {found.email} ; il devra en enregistrer "
                   "un nouveau à sa prochaine connexion si la plateforme l'exige.")


# -- API tokens -----------------------------------------------------------------------------


@main.group()
def token():
    """API tokens."""


@token.command("create")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--name", default="", help="What the token is for.")
@click.option("--expires-days", type=int, help="Validity in days (default: until revoked).")
@friendly
def token_create(tenant_slug, email, name, expires_days):
    """Create an API token; it is shown once and stored hashed."""
    with tenant_context(tenant_slug):
        from ..db import db as database

        row, clear = accounts.create_token(database.session, email, name, expires_days)
        database.session.commit()
        click.echo(f"Jeton {row.id} créé pour {email}. Conservez-le, il ne sera plus affiché :")
        click.echo(clear)


@token.command("revoke")
@click.option("--tenant", "tenant_slug", required=True)
@click.argument("token_id")
@friendly
def token_revoke(tenant_slug, token_id):
    """Revoke token TOKEN_ID."""
    with tenant_context(tenant_slug):
        from ..db import db as database

        accounts.revoke_token(database.session, token_id)
        database.session.commit()
        click.echo(f"Jeton {token_id} révoqué.")


@token.command("list")
@click.option("--tenant", "tenant_slug", required=True)
@friendly
def token_list(tenant_slug):
    """List tokens (never their value)."""
    from ..models import ApiToken

    with tenant_context(tenant_slug):
        from ..db import db as database

        for t in database.session.scalars(select(ApiToken).order_by(ApiToken.created_at)):
            state = "révoqué" if t.revoked_at else "actif"
            click.echo(f"{t.id}\t{t.user.email}\t{t.name}\t{state}")


# -- plugins --------------------------------------------------------------------------------


@main.group("plugins")
def plugins_group():
    """Installed plugins and their per-tenant enablement and settings."""


@plugins_group.command("list")
@click.option("--tenant", "tenant_slug", help="Show enablement for this tenant.")
@friendly
def plugins_list(tenant_slug):
    """List installed plugins (and whether TENANT enabled them)."""
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
        from ..db import db as database

        plugins.set_enabled(database.session, name, enabled)
        audit.record(database.session, "plugin.enable" if enabled else "plugin.disable", None,
                     plugin=name)
        database.session.commit()
    click.echo(f"Extension {name} {'activée' if enabled else 'désactivée'} pour {tenant_slug}.")


@plugins_group.command("enable")
@click.option("--tenant", "tenant_slug", required=True)
@click.argument("name")
@friendly
def plugins_enable(tenant_slug, name):
    """Enable plugin NAME for a tenant."""
    _set_enabled(tenant_slug, name, True)


@plugins_group.command("disable")
@click.option("--tenant", "tenant_slug", required=True)
@click.argument("name")
@friendly
def plugins_disable(tenant_slug, name):
    """Disable plugin NAME for a tenant."""
    _set_enabled(tenant_slug, name, False)


@plugins_group.command("settings")
@click.option("--tenant", "tenant_slug", required=True)
@click.argument("name")
@click.option("--set", "changes", multiple=True, metavar="KEY=VALUE",
              help="Change a setting (repeatable); values are JSON or plain text.")
@friendly
def plugins_settings(tenant_slug, name, changes):
    """Show or change the settings of plugin NAME for a tenant (validated by its schema)."""
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
        from ..db import db as database
        from ..models import PluginState

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


# -- serving and demo ------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host, port):
    """Serve the application (development server; use a WSGI server in production)."""
    from werkzeug.serving import run_simple

    app = _app()
    click.echo(f"http://{host}:{port}/")
    run_simple(host, port, app, threaded=True, use_reloader=False)


@main.command()
@click.option("--password", default=None, help="Password for every demo account.")
@friendly
def demo(password):
    """Create (idempotently) the demo tenant 'toulouse' with plugins, partners, users."""
    from .. import demo as demo_module

    with app_session() as session:
        logins = demo_module.create_demo(session, password)
        session.commit()
    click.echo("Territoire de démonstration « toulouse » prêt.")
    click.echo("Comptes (mot de passe commun : %s) :" % logins["password"])
    for line in logins["accounts"]:
        click.echo("  " + line)


# -- plugin developer kit --------------------------------------------------------------------


@main.group("plugin")
def plugin_group():
    """Plugin developer kit."""


@plugin_group.command("docs")
@click.option("--output", type=click.Path(dir_okay=False), default="docs/hooks.md",
              show_default=True)
def plugin_docs(output):
    """Generate the hook reference from core/hookspecs.py."""
    from ..plugins.hookdocs import render_reference

    with open(output, "w", encoding="utf-8") as fh:
        fh.write(render_reference())
    click.echo(f"Référence des hooks écrite dans {output}.")


@plugin_group.command("new")
@click.argument("name")
@click.option("--output", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Folder in which ccas-plugin-NAME is created.")
@friendly
def plugin_new(name, output):
    """Scaffold an installable plugin package NAME (then: pip install -e it)."""
    from ..plugins.scaffold import create

    target = create(name, output)
    click.echo(f"Extension {name} créée dans {target}.")
    click.echo(f"Ensuite : pip install -e {target} && ccas plugins list")


def _register_plugin_commands() -> None:
    """Plugins' own commands (``ccas_cli_commands``), loaded lazily at start."""
    reg = plugins.PluginRegistry()
    try:
        reg.load_entry_points()
    except Exception:  # noqa: BLE001 - a broken plugin must not break the CLI
        return
    for commands in reg.hook_results_by_plugin("ccas_cli_commands").values():
        for command in commands or []:
            if command.name not in main.commands:
                main.add_command(command)


_register_plugin_commands()

from ..features.reminders import appointments_cli  # noqa: E402 - registered after the core commands

main.add_command(appointments_cli)

from .reports import import_group, report  # noqa: E402 - reports and legacy import

main.add_command(report)
main.add_command(import_group)

from .loans import loan  # noqa: E402 - loan arithmetic

main.add_command(loan)

from .outbox import outbox_group, referrals_group  # noqa: E402 - outbox and referrals

main.add_command(outbox_group)
main.add_command(referrals_group)

from .backup import backup_group  # noqa: E402 - backup and restore

main.add_command(backup_group)

from .privacy import purge_command  # noqa: E402 - RGPD retention

main.add_command(purge_command)
