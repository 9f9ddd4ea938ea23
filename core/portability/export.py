"""Export one tenant: every row of its tables (the core's and its installed plugins'),
its tenant record, and the schema and versions it was written with."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from .. import __version__, audit, clock, migrate, plugins, storage, tenancy
from ..errors import UserError
from ..models import Base, OutboxMessage, OutboxStatus, StoredDocument, Tenant
from .archive import DERIVED_TABLES, TRANSIENT_TABLES, Manifest, Writer, row_line

BATCH = 2000


def tenant_tables(metadata=Base.metadata, transient: bool = False,
                  derived: bool = False) -> list:
    """The tenant-owned tables in dependency order (referenced tables first): those an
    archive carries, the transient ones with ``transient``, the derived ones (never in
    an archive) with ``derived``."""
    return [t for t in metadata.sorted_tables if "tenant_id" in t.c
            and (derived or t.name not in DERIVED_TABLES)
            and (transient or t.name not in TRANSIENT_TABLES)]


def tenant_record(tenant: Tenant) -> dict:
    return {"slug": tenant.slug, "name": tenant.name, "city": tenant.city,
            "timezone": tenant.timezone, "settings": tenant.settings or {},
            "created_at": tenant.created_at.isoformat() if tenant.created_at else None}


def _files(session, writer: Writer, manifest: Manifest) -> None:
    """Every stored document's file, checked against the checksum of its row."""
    store = storage.storage()
    for doc in session.scalars(select(StoredDocument).order_by(StoredDocument.id)):
        try:
            data = store.read(doc.tenant_id, doc.storage_key)
        except FileNotFoundError as exc:
            raise UserError(f"Export impossible : le fichier de la pièce {doc.id} manque "
                            "dans le stockage.") from exc
        if storage.checksum(data) != doc.sha256:
            raise UserError(f"Export impossible : le fichier de la pièce {doc.id} ne "
                            "correspond plus à son empreinte.")
        manifest.files[doc.storage_key] = writer.file(doc.storage_key, data)


def pending_messages(session, tenant: Tenant) -> int:
    """Messages of the tenant still waiting in the outbox (not carried by an export)."""
    with tenancy.tenant_scope(tenant.id):
        return session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status.in_([OutboxStatus.pending, OutboxStatus.sending]))) or 0


def export_tenant(session, tenant: Tenant, path: str | Path,
                  progress: Callable[[str, int], None] | None = None,
                  transient: bool = False) -> Manifest:
    """Write the archive of ``tenant`` to ``path`` (refused if the file exists). The
    export is recorded in the tenant's audit trail; the caller commits. ``transient``
    also carries the transient tables (a restore puts the tenant back as it was, its API
    tokens and sessions included)."""
    path = Path(path)
    if path.exists():
        raise UserError(f"Le fichier {path} existe déjà : choisissez un autre nom.")
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(
        tenant=tenant_record(tenant), core_version=__version__,
        schema_heads=sorted(migrate.heads()),
        plugins={n: p.info.version for n, p in sorted(plugins.registry().usable().items())},
        created_at=clock.now().isoformat(),
    )
    writer = Writer(path)
    try:
        with tenancy.tenant_scope(tenant.id):
            for table in tenant_tables(transient=transient):
                stmt = (select(table).where(table.c.tenant_id == tenant.id)
                        .order_by(*table.primary_key.columns)
                        .execution_options(yield_per=BATCH))
                result = session.execute(stmt)
                rows, digest = writer.table(
                    table.name, (row_line(table, row._mapping) for row in result))
                manifest.tables[table.name] = {"rows": rows, "sha256": digest,
                                               "member": f"tables/{table.name}.jsonl"}
                if progress is not None:
                    progress(table.name, rows)
            _files(session, writer, manifest)
            audit.record(session, "tenant.export", None, file=path.name,
                         rows=sum(t["rows"] for t in manifest.tables.values()))
            session.flush()
        writer.finish(manifest)
    except BaseException:
        writer.abort()
        raise
    return manifest
