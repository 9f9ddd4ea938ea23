"""Alembic, driven from code: ``ccas db upgrade`` and the readiness check use it.

On PostgreSQL migrations run as the owner role (``CCAS_DATABASE_OWNER_URL``); the
application role only gets data privileges (``rawsql.grant_app_role``), so row-level
security applies to it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

import migrations as _migrations_pkg

SCRIPT_LOCATION = str(Path(_migrations_pkg.__file__).parent)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@cache
def heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def upgrade(owner_url: str, app_role: str | None = None) -> None:
    """Upgrade to head (idempotent); on PostgreSQL grant the app role its privileges."""
    command.upgrade(alembic_config(owner_url), "heads")
    if app_role and owner_url.startswith("postgresql"):
        from sqlalchemy import create_engine

        from . import rawsql

        engine = create_engine(owner_url)
        try:
            with engine.begin() as conn:
                rawsql.grant_app_role(conn, app_role)
        finally:
            engine.dispose()


def app_role_of(app_url: str, owner_url: str) -> str | None:
    """The application's PostgreSQL role when it differs from the owner."""
    from sqlalchemy.engine import make_url

    if not app_url.startswith("postgresql"):
        return None
    app_user = make_url(app_url).username
    owner_user = make_url(owner_url).username
    return app_user if app_user and app_user != owner_user else None
