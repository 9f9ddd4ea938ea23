"""``ccas db``, ``tenant``, ``org``, ``user``, ``operator``, ``token``: the platform's and a
city's administration from the command line (the same services as the web pages)."""

from __future__ import annotations

import sys

import click
from sqlalchemy import func, select

from .. import accounts, migrate, tenancy
from .. import config as config_module
from ..accounts import totp
from ..db import db as database
from ..models import ApiToken, Operator, Organisation, Tenant
from ..portability import export as portability_export
from ..portability import load as portability_load
from ..portability import removal as portability_removal
from .context import _app, app_session, friendly, owner_session, tenant_context

# -- database -------------------------------------------------------------------------------


@click.group()
def db():
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@friendly
def db_upgrade():
    """Upgrade the database to the latest schema (idempotent)."""
    app = _app()
    app_url = app.config["CCAS_DATABASE_URL"]
    owner_url = app.config["CCAS_DATABASE_OWNER_URL"]
    migrate.upgrade(owner_url, migrate.app_role_of(app_url, owner_url),
                    config_module.wall_key(app.config))
    click.echo("Base de données à jour.")


# -- tenants --------------------------------------------------------------------------------


@click.group()
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
    with app_session() as session:
        rows = session.scalars(select(Tenant).order_by(Tenant.slug)).all()
        if not rows:
            click.echo("Aucun territoire.")
        for t in rows:
            click.echo(f"{t.slug}\t{t.name}\t{t.city}\t{t.timezone}")


def _progress(label: str):
    """A per-table progress line on a terminal; nothing when piped."""
    if not sys.stdout.isatty():
        return None
    return lambda table, rows: click.echo(f"  {label} {table} : {rows} ligne(s)")


@tenant.command("export")
@click.argument("slug")
@click.option("--output", required=True, type=click.Path(dir_okay=False),
              help="Archive to write (a .zip; refused if the file exists).")
@friendly
def tenant_export(slug, output):
    """Export every row of tenant SLUG (its plugins' included) to an archive."""
    with tenant_context(slug) as t:
        session = database.session
        waiting = portability_export.pending_messages(session, t)
        manifest = portability_export.export_tenant(session, t, output, _progress("export"))
        session.commit()
    rows = sum(e["rows"] for e in manifest.tables.values())
    click.echo(f"Territoire {slug} exporté : {rows} lignes dans {len(manifest.tables)} tables, "
               f"{output}.")
    if waiting:
        click.echo(f"Attention : {waiting} message(s) en attente d'envoi ne sont pas dans "
                   "l'archive (lancez « ccas outbox drain » avant d'exporter).")


@tenant.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--slug", help="Import under this slug (default: the archive's).")
@click.option("--new-ids", is_flag=True,
              help="Give every row a new identifier (when the rows exist here already).")
@friendly
def tenant_import(file, slug, new_ids):
    """Import a tenant archive into this deployment (all or nothing)."""
    with app_session() as session:
        try:
            t = portability_load.import_tenant(session, file, slug, new_ids,
                                               _progress("import"))
            session.commit()
        except BaseException:
            session.rollback()
            raise
        click.echo(f"Territoire {t.slug} importé ({t.name}). Les jetons d'API sont à "
                   "créer de nouveau (ccas token create).")


@tenant.command("delete")
@click.argument("slug")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted, delete nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@friendly
def tenant_delete(slug, dry_run, yes):
    """Delete tenant SLUG and every row it owns (export it first)."""
    with owner_session() as session:
        t = accounts.get_tenant(session, slug)
        counts = portability_removal.counts(session, t)
        for table, n in sorted(counts.items()):
            click.echo(f"{table}\t{n}")
        total = sum(counts.values())
        if dry_run:
            click.echo(f"{total} ligne(s) seraient supprimées, et le territoire {slug}. "
                       "Rien n'a été supprimé.")
            return
        if not yes:
            click.confirm(f"Supprimer définitivement le territoire {slug} et ses {total} "
                          "ligne(s) ?", abort=True)
        portability_removal.delete_tenant(session, t)
        session.commit()
    click.echo(f"Territoire {slug} supprimé ({total} ligne(s)).")


# -- organisations and users ----------------------------------------------------------------


@click.group()
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
        o = accounts.create_organisation(database.session, name, kind, plugin_name, email)
        database.session.commit()
        click.echo(f"Organisation créée : {o.name} ({o.kind.value})")


@org.command("list")
@click.option("--tenant", "tenant_slug", required=True)
@friendly
def org_list(tenant_slug):
    """List a tenant's organisations."""
    with tenant_context(tenant_slug):
        for o in database.session.scalars(select(Organisation).order_by(Organisation.name)):
            click.echo(f"{o.name}\t{o.kind.value}\t{o.plugin_name or ''}")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)


@click.group()
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
        u = accounts.get_user(database.session, email)
        accounts.deactivate_user(database.session, u)
        database.session.commit()
        click.echo(f"Compte désactivé : {u.email}")


@click.group()
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


@click.group()
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
        accounts.revoke_token(database.session, token_id)
        database.session.commit()
        click.echo(f"Jeton {token_id} révoqué.")


@token.command("list")
@click.option("--tenant", "tenant_slug", required=True)
@friendly
def token_list(tenant_slug):
    """List tokens (never their value)."""

    with tenant_context(tenant_slug):
        for t in database.session.scalars(select(ApiToken).order_by(ApiToken.created_at)):
            state = "révoqué" if t.revoked_at else "actif"
            click.echo(f"{t.id}\t{t.user.email}\t{t.name}\t{state}")
