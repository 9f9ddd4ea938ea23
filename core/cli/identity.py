"""``ccas idp``: a tenant's identity providers (OpenID Connect) and its password sign-in,
for the platform operator (the same services as the manager's page)."""

from __future__ import annotations

import sys

import click

from ..accounts import identity_providers as idp
from ..db import db as database
from .context import friendly, tenant_context


@click.group("idp")
def idp_group():
    """Identity providers (OpenID Connect sign-in) of a tenant."""


@idp_group.command("set")
@click.option("--tenant", "tenant_slug", required=True)
@click.argument("name")
@click.option("--issuer", help="Issuer URL (or its discovery URL).")
@click.option("--client-id")
@click.option("--client-secret-stdin", is_flag=True,
              help="Read the client secret from standard input (never on the command line).")
@click.option("--domains", help="Allowed e-mail domains, comma-separated.")
@click.option("--scopes", help=f"Scopes (default for a new provider: '{idp.DEFAULT_SCOPES}').")
@click.option("--org", "organisation",
              help="A partner organisation's own provider (its name); '' for the whole tenant.")
@click.option("--trust-unverified-email/--require-verified-email", default=None,
              help="Accept e-mails without email_verified (default: required).")
@click.option("--active/--inactive", default=None)
@friendly
def idp_set(tenant_slug, name, issuer, client_id, client_secret_stdin, domains, scopes,
            organisation, trust_unverified_email, active):
    """Create identity provider NAME of a tenant, or change the options given."""
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
@click.option("--tenant", "tenant_slug", required=True)
@friendly
def idp_list(tenant_slug):
    """The tenant's providers and whether passwords are allowed (secrets never shown)."""
    with tenant_context(tenant_slug) as tenant:
        for p in idp.list_providers(database.session):
            scope = p.organisation.name if p.organisation else "tout le territoire"
            state = "actif" if p.active else "inactif"
            click.echo(f"{p.name}\t{p.issuer}\t{p.client_id}\t{','.join(p.allowed_domains)}"
                       f"\t{scope}\t{state}")
        allowed = idp.password_sign_in_allowed(tenant)
        click.echo(f"Mots de passe : {'autorisés' if allowed else 'désactivés'}")


@idp_group.command("remove")
@click.option("--tenant", "tenant_slug", required=True)
@click.argument("name")
@friendly
def idp_remove(tenant_slug, name):
    """Remove identity provider NAME."""
    with tenant_context(tenant_slug) as tenant:
        idp.remove_provider(database.session, name, tenant=tenant)
        database.session.commit()
        click.echo(f"Fournisseur d'identité supprimé : {name}")


@idp_group.command("passwords")
@click.option("--tenant", "tenant_slug", required=True)
@click.argument("state", type=click.Choice(["on", "off"]))
@friendly
def idp_passwords(tenant_slug, state):
    """Allow (on) or forbid (off) password sign-in for the tenant's accounts."""
    with tenant_context(tenant_slug) as tenant:
        idp.set_password_sign_in(database.session, tenant, state == "on")
        database.session.commit()
        click.echo("Connexion par mot de passe " + ("autorisée." if state == "on" else
                                                    "désactivée."))
