"""``ccas db``, ``tenant``, ``org``, ``user``, ``operator``, ``token``: the platform's and a
city's administration from the command line (the same services as the web pages)."""

from __future__ import annotations

import sys

import click
from sqlalchemy import func, select

from .. import accounts, clock, formats, migrate
from .. import config as config_module
from ..accounts import invitations, onboarding, totp
from ..db import db as database
from ..models import ApiToken, Operator, Organisation, Tenant
from ..portability import export as portability_export
from ..portability import load as portability_load
from ..portability import removal as portability_removal
from .context import (
    _app,
    app_session,
    email_option,
    friendly,
    owner_session,
    tenant_context,
    tenant_option,
)

# -- database -------------------------------------------------------------------------------


@click.group()
def db():
    """Schéma de la base de données (migrations)."""


@db.command("upgrade")
@click.option("--verbose", "-v", is_flag=True, help="Afficher chaque migration appliquée.")
@friendly
def db_upgrade(verbose):
    """Mettre la base au dernier schéma (sans effet si elle y est déjà)."""
    app = _app()
    app_url = app.config["CCAS_DATABASE_URL"]
    owner_url = app.config["CCAS_DATABASE_OWNER_URL"]
    before = migrate.applied(owner_url)
    migrate.upgrade(owner_url, migrate.app_role_of(app_url, owner_url),
                    config_module.wall_key(app.config), verbose=verbose)
    added = sorted(migrate.applied(owner_url) - before)
    if added:
        applied = formats.plural(len(added), "migration appliquée", "migrations appliquées")
        click.echo(f"Base de données à jour ({applied}).")
    else:
        click.echo("Base de données à jour.")


# -- tenants --------------------------------------------------------------------------------


@click.group()
def tenant():
    """Territoires (un par commune)."""


@tenant.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Nom affiché, par ex. « CCAS de Lyon ».")
@click.option("--city", help="Commune (par défaut : le nom).")
@click.option("--timezone", default="Europe/Paris", show_default=True, help="Fuseau horaire.")
@click.option("--manager-email",
              help="Inviter le responsable du territoire : lien pour choisir son mot de passe "
                   "envoyé par courriel (valable 7 jours).")
@friendly
def tenant_create(slug, name, city, timezone, manager_email):
    """Créer le territoire SLUG, son organisation « CCAS de <commune> » (et inviter son
    responsable)."""
    with app_session() as session:
        t = onboarding.open_tenant(session, slug, name, city, timezone, manager_email,
                                   _app().config["CCAS_BASE_URL"])
        session.commit()
        click.echo(f"Territoire créé : {t.slug} ({t.name}), adresse /t/{t.slug}/")
        if manager_email:
            click.echo(f"Invitation envoyée au responsable {manager_email.strip().lower()} "
                       "(file d'envoi : ccas outbox drain).")


@tenant.command("list")
@friendly
def tenant_list():
    """Lister les territoires."""
    with app_session() as session:
        rows = session.scalars(select(Tenant).order_by(Tenant.slug)).all()
        if not rows:
            click.echo("Aucun territoire.")
        for t in rows:
            click.echo(f"{t.slug}\t{t.name}\t{t.city}\t{t.timezone}")


@tenant.command("suspend")
@click.argument("slug")
@friendly
def tenant_suspend(slug):
    """Suspendre le territoire SLUG : ses pages, sa connexion et son API répondent
    « territoire suspendu » (rien n'est supprimé)."""
    _set_suspended(slug, True)


@tenant.command("resume")
@click.argument("slug")
@friendly
def tenant_resume(slug):
    """Rétablir le territoire SLUG suspendu."""
    _set_suspended(slug, False)


def _set_suspended(slug: str, suspended: bool) -> None:
    with app_session() as session:
        t = accounts.get_tenant(session, slug)
        changed = accounts.set_suspended(session, t, suspended)
        session.commit()
    state = "suspendu" if suspended else "rétabli"
    click.echo(f"Territoire {slug} {state}." if changed
               else f"Territoire {slug} déjà {'suspendu' if suspended else 'ouvert'} : "
                    "rien à faire.")


def _progress(label: str):
    """A per-table progress line on a terminal; nothing when piped."""
    if not sys.stdout.isatty():
        return None
    return lambda table, rows: click.echo(
        f"  {label} {table} : {formats.plural(rows, 'ligne', 'lignes')}")


@tenant.command("export")
@click.argument("slug")
@click.option("--output", required=True, type=click.Path(dir_okay=False),
              help="Archive à écrire (.zip ; refusé si le fichier existe).")
@friendly
def tenant_export(slug, output):
    """Exporter toutes les lignes du territoire SLUG (extensions comprises) dans une archive."""
    with tenant_context(slug) as t:
        session = database.session
        waiting = portability_export.pending_messages(session, t)
        manifest = portability_export.export_tenant(session, t, output, _progress("export"))
        session.commit()
    rows = sum(e["rows"] for e in manifest.tables.values())
    click.echo(f"Territoire {slug} exporté : {formats.plural(rows, 'ligne', 'lignes')} dans "
               f"{formats.plural(len(manifest.tables), 'table', 'tables')}, "
               f"{output}.")
    if waiting:
        click.echo(f"Attention : {formats.plural(waiting, 'message', 'messages')} en attente "
                   "d'envoi, pas dans l'archive (lancez « ccas outbox drain » avant d'exporter).")


@tenant.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--slug", help="Importer sous ce slug (par défaut : celui de l'archive).")
@click.option("--new-ids", is_flag=True,
              help="Donner un nouvel identifiant à chaque ligne (si elles existent déjà ici).")
@friendly
def tenant_import(file, slug, new_ids):
    """Importer l'archive d'un territoire (tout ou rien)."""
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
@click.option("--dry-run", is_flag=True,
              help="Compter ce qui serait supprimé, sans rien supprimer.")
@click.option("--yes", is_flag=True, help="Ne pas demander de confirmation.")
@friendly
def tenant_delete(slug, dry_run, yes):
    """Supprimer le territoire SLUG et toutes ses lignes (exportez-le d'abord)."""
    with owner_session() as session:
        t = accounts.get_tenant(session, slug)
        counts = portability_removal.counts(session, t)
        for table, n in sorted(counts.items()):
            click.echo(f"{table}\t{n}")
        total = sum(counts.values())
        if dry_run:
            gone = formats.plural(total, "ligne serait supprimée", "lignes seraient supprimées")
            click.echo(f"{gone}"
                       f", et le territoire {slug}. "
                       "Rien n'a été supprimé.")
            return
        if not yes:
            click.confirm(f"Supprimer définitivement le territoire {slug} "
                          f"({formats.plural(total, 'ligne', 'lignes')}) ?", abort=True)
        portability_removal.delete_tenant(session, t)
        session.commit()
    click.echo(f"Territoire {slug} supprimé ({formats.plural(total, 'ligne', 'lignes')}).")


# -- organisations and users ----------------------------------------------------------------


@click.group()
def org():
    """Organisations du réseau d'un territoire."""


@org.command("create")
@tenant_option
@click.option("--name", required=True, help="Nom de l'organisation.")
@click.option("--kind", required=True, help="ccas, lender, aid_fund, association, funder, other")
@click.option("--plugin", "plugin_name", help="Extension qui représente cette organisation.")
@click.option("--email", help="Adresse de contact pour les notifications.")
@friendly
def org_create(tenant_slug, name, kind, plugin_name, email):
    """Créer une organisation dans un territoire."""
    with tenant_context(tenant_slug):
        o = accounts.create_organisation(database.session, name, kind, plugin_name, email)
        database.session.commit()
        click.echo(f"Organisation créée : {o.name} ({o.kind.value})")


@org.command("list")
@tenant_option
@friendly
def org_list(tenant_slug):
    """Lister les organisations d'un territoire."""
    with tenant_context(tenant_slug):
        for o in database.session.scalars(select(Organisation).order_by(Organisation.name)):
            click.echo(f"{o.name}\t{o.kind.value}\t{o.plugin_name or ''}")


def _read_password(password_stdin: bool) -> str:
    """The password from standard input (``--password-stdin``, first line) or a prompt on
    a terminal; without a terminal and without the flag, a clear refusal."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.ClickException("Aucun mot de passe lu sur l'entrée standard "
                                       "(--password-stdin attend une ligne).")
        return password
    if not sys.stdin.isatty():
        raise click.ClickException(
            "Pas de terminal pour demander le mot de passe : donnez-le sur l'entrée "
            "standard avec --password-stdin, par ex. printf '%s\\n' \"$MOT_DE_PASSE\" | ccas … "
            "--password-stdin.")
    return click.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)


@click.group()
def user():
    """Comptes des utilisateurs."""


@user.command("create")
@tenant_option
@email_option
@click.option("--role", required=True,
              help="manager, secretary, social_worker, lender_agent, referrer, funder")
@click.option("--org", "org_name", required=True, help="Nom de l'organisation.")
@click.option("--name", "full_name", default="", help="Prénom et nom.")
@click.option("--password-stdin", is_flag=True,
              help="Lire le mot de passe sur l'entrée standard (sans terminal).")
@friendly
def user_create(tenant_slug, email, role, org_name, full_name, password_stdin):
    """Créer un compte (mot de passe demandé, ou lu avec --password-stdin)."""
    with tenant_context(tenant_slug):
        accounts.parse_role(role)  # fail before asking for a password
        password = _read_password(password_stdin)
        u = accounts.create_user(database.session, email, role, org_name, password, full_name)
        database.session.commit()
        click.echo(f"Compte créé : {u.email} ({u.role.value}, {u.organisation.name})")


@user.command("invite")
@tenant_option
@email_option
@click.option("--role", required=True,
              help="manager, secretary, social_worker, lender_agent, referrer, funder")
@click.option("--org", "org_name", required=True, help="Nom de l'organisation.")
@click.option("--name", "full_name", default="", help="Prénom et nom.")
@friendly
def user_invite(tenant_slug, email, role, org_name, full_name):
    """Créer un compte et lui envoyer par e-mail un lien pour choisir son mot de passe
    (valable 7 jours) ; aucun mot de passe demandé."""
    with tenant_context(tenant_slug) as t:
        u = invitations.invite_user(database.session, t, email, role, org_name,
                                    _app().config["CCAS_BASE_URL"], full_name)
        database.session.commit()
        click.echo(f"Invitation envoyée à {u.email} ({u.role.value}, {u.organisation.name}) ; "
                   "le message part avec la file d'envoi (ccas outbox drain).")


def _on_account(tenant_slug: str, email: str, act) -> None:
    """``act(user)`` on the account ``email`` of the tenant, committed; prints what it
    returns."""
    with tenant_context(tenant_slug):
        u = accounts.get_user(database.session, email)
        message = act(u)
        database.session.commit()
    click.echo(message)


@user.command("deactivate")
@tenant_option
@email_option
@friendly
def user_deactivate(tenant_slug, email):
    """Désactiver un compte : ses sessions prennent fin, ses jetons d'API cessent de marcher."""
    def act(u):
        accounts.deactivate_user(database.session, u)
        return f"Compte désactivé : {u.email}"

    _on_account(tenant_slug, email, act)


@user.command("reactivate")
@tenant_option
@email_option
@friendly
def user_reactivate(tenant_slug, email):
    """Réactiver un compte désactivé."""
    def act(u):
        accounts.reactivate_user(database.session, u)
        return f"Compte réactivé : {u.email}"

    _on_account(tenant_slug, email, act)


@user.command("reset-totp")
@tenant_option
@email_option
@friendly
def user_reset_totp(tenant_slug, email):
    """Retirer le second facteur d'un compte (téléphone et codes de secours perdus)."""
    _on_account(tenant_slug, email, lambda u: (
        f"Second facteur supprimé pour {u.email}."
        if accounts.reset_second_factor(database.session, u)
        else f"{u.email} n'a pas de second facteur : rien à faire."))


@click.group()
def operator():
    """Opérateurs de la plateforme (sans territoire)."""


@operator.command("create")
@email_option
@click.option("--password-stdin", is_flag=True,
              help="Lire le mot de passe sur l'entrée standard (sans terminal).")
@friendly
def operator_create(email, password_stdin):
    """Créer un opérateur de la plateforme."""
    with app_session() as session:
        o = accounts.create_operator(session, email, _read_password(password_stdin))
        session.commit()
        click.echo(f"Opérateur créé : {o.email}")


@operator.command("reset-totp")
@email_option
@friendly
def operator_reset_totp(email):
    """Retirer le second facteur d'un opérateur (téléphone et codes de secours perdus) ;
    avec CCAS_OPERATOR_TOTP_REQUIRED, il en enregistre un nouveau à la connexion suivante."""
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
    """Jetons d'API."""


@token.command("create")
@tenant_option
@click.option("--email", required=True, help="Le compte au nom duquel le jeton agit.")
@click.option("--name", default="", help="À quoi sert le jeton.")
@click.option("--expires-days", type=int,
              help="Validité en jours (par défaut : jusqu'à révocation).")
@friendly
def token_create(tenant_slug, email, name, expires_days):
    """Créer un jeton d'API ; il est affiché une seule fois et conservé haché."""
    with tenant_context(tenant_slug):
        row, clear = accounts.create_token(database.session, email, name, expires_days)
        database.session.commit()
        click.echo(f"Jeton {row.id} créé pour {email}. Conservez-le, il ne sera plus affiché :")
        click.echo(clear)


@token.command("revoke")
@tenant_option
@click.argument("token_id")
@friendly
def token_revoke(tenant_slug, token_id):
    """Révoquer le jeton TOKEN_ID."""
    with tenant_context(tenant_slug):
        accounts.revoke_token(database.session, token_id)
        database.session.commit()
        click.echo(f"Jeton {token_id} révoqué.")


@token.command("list")
@tenant_option
@friendly
def token_list(tenant_slug):
    """Lister les jetons (jamais leur valeur)."""

    with tenant_context(tenant_slug):
        for t in database.session.scalars(select(ApiToken).order_by(ApiToken.created_at)):
            state = "révoqué" if t.revoked_at else "actif"
            used = (f"utilisé le {formats.day(clock.local_day(t.last_used_at))}" if t.last_used_at
                    else "jamais utilisé")
            click.echo(f"{t.id}\t{t.user.email}\t{t.name}\t{state}\t{used}")
