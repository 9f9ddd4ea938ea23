"""Alembic, driven from code: ``ccas db upgrade`` and the readiness check use it.

On PostgreSQL migrations run as the owner role (``CCAS_DATABASE_OWNER_URL``); the
application role only gets data privileges (``rawsql.grant_app_role``), so row-level
security applies to it.
"""

from __future__ import annotations

import logging
import os
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

import migrations as _migrations_pkg

from . import rawsql
from .models.base import UTCDateTime
from .plugins import ENTRY_POINT_GROUP

SCRIPT_LOCATION = str(Path(_migrations_pkg.__file__).parent)


def plugin_migration_dirs() -> list[str]:
    """``<plugin package>/migrations`` of every installed plugin that has one: a plugin's
    Alembic branch (``branch_labels=("<plugin>",)``, ``depends_on`` a core revision)."""
    dirs = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            module = ep.load()
        except Exception:  # noqa: BLE001, S112 - a broken plugin is reported elsewhere
            continue
        path = Path(getattr(module, "__file__", "") or "").parent / "migrations"
        if path.is_dir():
            dirs.append(str(path))
    return sorted(dirs)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    locations = [str(Path(SCRIPT_LOCATION) / "versions"), *plugin_migration_dirs()]
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(locations))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def heads() -> set[str]:
    return set(_script().get_heads())


def pending_heads(current: set[str]) -> set[str]:
    """Heads not yet applied to a database whose ``alembic_version`` holds ``current``.

    A revision that another one ``depends_on`` is applied without being listed, so the
    check walks down from ``current`` through parents and dependencies."""
    script = _script()
    if not current:
        return heads()
    applied = {r.revision for r in script.revision_map.iterate_revisions(tuple(current), "base")}
    return heads() - applied - set(current)


def applied(url: str) -> set[str]:
    """Every revision applied to the database at ``url`` (heads and their ancestors)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            current = rawsql.migration_revision(conn)
    finally:
        engine.dispose()
    if not current:
        return set()
    return {r.revision for r in _script().revision_map.iterate_revisions(tuple(current), "base")}


def upgrade(owner_url: str, app_role: str | None = None, wall_key: bytes | None = None,
            verbose: bool = False) -> None:
    """Upgrade to head (idempotent); on PostgreSQL grant the app role its privileges and
    store the tenant wall's key (``core.config.wall_key``) where only the owner reads it.
    Alembic's progress lines (INFO) are shown only when ``verbose``."""
    alembic_log = logging.getLogger("alembic")
    previous = alembic_log.level
    if not verbose:
        alembic_log.setLevel(logging.WARNING)
    try:
        command.upgrade(alembic_config(owner_url), "heads")
    finally:
        alembic_log.setLevel(previous)
    if owner_url.startswith("postgresql") and (app_role or wall_key):
        engine = create_engine(owner_url)
        try:
            with engine.begin() as conn:
                if app_role:
                    rawsql.grant_app_role(conn, app_role)
                if wall_key:
                    rawsql.install_wall_key(conn, wall_key)
        finally:
            engine.dispose()


def app_role_of(app_url: str, owner_url: str) -> str | None:
    """The application's PostgreSQL role when it differs from the owner."""
    if not app_url.startswith("postgresql"):
        return None
    app_user = make_url(app_url).username
    owner_user = make_url(owner_url).username
    return app_user if app_user and app_user != owner_user else None


def render_item(type_: str, obj, autogen_context):
    """Autogenerate hook (``migrations/env.py``): the core's custom column types are
    written as the names plugins may import, ``from core.plugin_api import UTCDateTime``,
    so a generated revision (a plugin's branch included) imports no private module."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("from core.plugin_api import UTCDateTime")
        return f"UTCDateTime(timezone={obj.impl.timezone!r})"
    return False
