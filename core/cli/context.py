"""What every ``ccas`` command shares: the application (created once per invocation), its
session, a tenant's scope, and French error messages instead of tracebacks."""

from __future__ import annotations

import functools
from contextlib import contextmanager

import click
from flask import g
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from .. import accounts, plugins, tenancy
from ..db import CcasSession, db, make_engine
from ..errors import UserError


def _app():
    ctx = click.get_current_context()
    root = ctx.find_root()
    root.obj = root.obj or {}
    if "app" not in root.obj:
        # deferred: the application imports every blueprint and plugin; ``ccas --help``
        # and the pure commands (``ccas loan schedule``) never need it
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
        yield db.session


@contextmanager
def owner_session():
    """A session of the tables' owner (``CCAS_DATABASE_OWNER_URL``), inside the app
    context, for what the application role may not do (deleting a tenant's audit trail)."""
    app = _app()
    with app.app_context():
        engine = make_engine(app.config["CCAS_DATABASE_OWNER_URL"])
        session = sessionmaker(bind=engine, class_=CcasSession, expire_on_commit=False)()
        try:
            yield session
        finally:
            session.rollback()
            session.close()
            engine.dispose()


#: ``--tenant SLUG`` (the command's ``tenant_slug``), the option of every tenant command.
tenant_option = click.option("--tenant", "tenant_slug", required=True,
                             help="Slug du territoire.")
#: ``--email`` naming an account (its sign-in identifier).
email_option = click.option("--email", required=True,
                            help="Adresse e-mail (identifiant de connexion).")


@contextmanager
def tenant_context(slug: str):
    """App context + tenant scope for ``slug``; yields the ``Tenant``."""
    with app_session() as session:
        tenant = accounts.get_tenant(session, slug)
        with tenancy.tenant_scope(tenant.id):
            g.tenant = tenant
            yield tenant
