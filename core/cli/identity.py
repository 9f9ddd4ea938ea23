"""``ccas idp``: a tenant's identity providers (OpenID Connect) and its password sign-in,
for the platform operator (the same services as the manager's page)."""

from __future__ import annotations

import sys

import click

from ..accounts import identity_providers as idp
from ..db import db as database
from .context import friendly, tenant_context, tenant_option


@click.group("idp")
def idp_group():
    """Fournisseurs d'identité (connexion OpenID Connect) d'un territoire."""


@idp_group.command("set")
@tenant_option
@click.argument("name")
@click.option("--issuer", help="Adresse de l'émetteur (ou son adresse de découverte).")
@click.option("--client-id", help="Identifiant du client déclaré chez le fournisseur.")
@click.option("--client-secret-stdin", is_flag=True,
              help="Lire le secret du client sur l'entrée standard (jamais sur la ligne "
                   "de commande).")
@click.option("--domains", help="Domaines d'adresse e-mail admis, séparés par des virgules.")
@click.option("--scopes",
              help=f"Portées (défaut pour un nouveau fournisseur : « {idp.DEFAULT_SCOPES} »).")
@click.option("--org", "organisation",
              help="Le fournisseur propre à une organisation partenaire (son nom) ; '' "
                   "pour tout le territoire.")
@click.option("--trust-unverified-email/--require-verified-email", default=None,
              help="Accepter les adresses sans email_verified (défaut : exigé).")
@click.option("--active/--inactive", default=None, help="Activer ou désactiver le fournisseur.")
@friendly
def idp_set(tenant_slug, name, issuer, client_id, client_secret_stdin, domains, scopes,
            organisation, trust_unverified_email, active):
    """Créer le fournisseur d'identité NAME d'un territoire, ou changer les options données."""
    with tenant_context(tenant_slug) as tenant:
        secret = sys.stdin.readline().rstrip("\n") if client_secret_stdin else None
        provider = idp.set_provider(
            database.session, name, issuer=issuer, client_id=client_id, client_secret=secret,
            domains=domains, scopes=scopes, organisation=organisation,
            trust_unverified_email=trust_unverified_email, active=active, tenant=tenant,
        )
        database.session.commit()
        click.echo(f"Fournisseur d'identité enregistré : {provider.name} ({provider.issuer})")
        click.echo(f"Adresse de retour à déclarer : …/t/{tenant.slug}/login/oidc/callback")


@idp_group.command("list")
@tenant_option
@friendly
def idp_list(tenant_slug):
    """Les fournisseurs du territoire et si les mots de passe sont admis (secrets jamais
    affichés)."""
    with tenant_context(tenant_slug) as tenant:
        for p in idp.list_providers(database.session):
            scope = p.organisation.name if p.organisation else "tout le territoire"
            state = "actif" if p.active else "inactif"
            click.echo(f"{p.name}\t{p.issuer}\t{p.client_id}\t{','.join(p.allowed_domains)}"
                       f"\t{scope}\t{state}")
        allowed = idp.password_sign_in_allowed(tenant)
        click.echo(f"Mots de passe : {'autorisés' if allowed else 'désactivés'}")


@idp_group.command("remove")
@tenant_option
@click.argument("name")
@friendly
def idp_remove(tenant_slug, name):
    """Supprimer le fournisseur d'identité NAME."""
    with tenant_context(tenant_slug) as tenant:
        idp.remove_provider(database.session, name, tenant=tenant)
        database.session.commit()
        click.echo(f"Fournisseur d'identité supprimé : {name}")


@idp_group.command("unlink")
@tenant_option
@click.argument("name")
@click.option("--email", required=True,
              help="Le compte dont l'identité chez le fournisseur a changé.")
@friendly
def idp_unlink(tenant_slug, name, email):
    """Permettre au compte EMAIL de se connecter par NAME avec une nouvelle identité (sa
    première connexion avait fixé l'identifiant donné par le fournisseur)."""
    with tenant_context(tenant_slug):
        removed = idp.unlink(database.session, name, email)
        database.session.commit()
        click.echo("Liaison supprimée : la prochaine connexion liera la nouvelle identité."
                   if removed else "Ce compte n'était lié à aucune identité de ce fournisseur.")


@idp_group.command("passwords")
@tenant_option
@click.argument("state", type=click.Choice(["on", "off"]))
@friendly
def idp_passwords(tenant_slug, state):
    """Autoriser (on) ou interdire (off) la connexion par mot de passe des comptes du territoire."""
    with tenant_context(tenant_slug) as tenant:
        idp.set_password_sign_in(database.session, tenant, state == "on")
        database.session.commit()
        click.echo("Connexion par mot de passe " + ("autorisée." if state == "on" else
                                                    "désactivée."))
