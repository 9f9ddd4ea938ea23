"""Restore one city from a whole-platform backup without touching the others.

The backup is restored into a scratch database (SQLite: a copy in a temporary folder;
PostgreSQL: an empty database the operator provides, ``--scratch-url``, restored with
the backup's schema and policies), the city is exported from it with everything it had
(API tokens and sessions included), and in one transaction of the live database's owner
the city's current rows are deleted and the exported ones written back under the same
tenant id. The stored documents' files come from the backup's files archive
(``core.backup.files_archive``), read through the scratch application. The other
cities are not read nor written.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import select

from .. import backup
from ..app import create_app
from ..db import db
from ..errors import UserError
from ..models import Tenant
from .export import export_tenant
from .load import import_tenant
from .removal import delete_tenant


def restore_tenant(owner_session, owner_url: str, backup_file: str | Path, slug: str,
                   scratch_url: str | None = None) -> dict:
    """Put tenant ``slug`` back as it was in ``backup_file``; return what was replaced
    and restored (row counts). Nothing is committed here: the caller commits
    ``owner_session`` (the live database's owner)."""
    with tempfile.TemporaryDirectory(prefix="ccas-restore-") as folder:
        archive = Path(folder) / f"{slug}.zip"
        scratch = _scratch(owner_url, backup_file, scratch_url, Path(folder))
        files = Path(folder) / "files"
        if backup.files_archive(backup_file).is_file():
            backup.restore_files(backup.files_archive(backup_file), files)
        old_id = _export_from_scratch(scratch, slug, archive, files)
        live = owner_session.scalar(select(Tenant).where(Tenant.slug == slug))
        replaced = delete_tenant(owner_session, live) if live is not None else {}
        tenant = import_tenant(owner_session, archive, slug=slug,
                               tenant_id=live.id if live is not None else old_id)
        return {"tenant_id": tenant.id, "replaced": sum(replaced.values())}


def _scratch(owner_url: str, backup_file, scratch_url: str | None, folder: Path) -> str:
    if backup.dialect_of(owner_url) == "sqlite":
        copy = folder / "scratch.sqlite3"
        backup.restore(f"sqlite:///{copy}", backup_file)
        return f"sqlite:///{copy}"
    if not scratch_url:
        raise UserError("Indiquez une base de travail vide (--scratch-url) : la sauvegarde "
                        "y est restaurée avant d'en extraire le territoire.")
    backup.restore(scratch_url, backup_file)
    return scratch_url


def _export_from_scratch(scratch_url: str, slug: str, archive: Path, files: Path) -> int:
    scratch_app = create_app({"CCAS_DATABASE_URL": scratch_url,
                              "CCAS_DATABASE_OWNER_URL": scratch_url,
                              "CCAS_FILES_DIR": str(files)})
    try:
        with scratch_app.app_context():
            tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
            if tenant is None:
                raise UserError(f"Le territoire {slug!r} n'est pas dans cette sauvegarde.")
            export_tenant(db.session, tenant, archive, transient=True)
            db.session.rollback()  # the scratch copy is thrown away: no audit row kept
            return tenant.id
    finally:
        db.dispose_url(scratch_url)
