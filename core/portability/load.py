"""Import a tenant archive into this deployment: all or nothing, in the caller's
transaction (nothing is committed here).

The archive must come from the same schema (the migration heads recorded in its
manifest equal this deployment's) and every table it holds must exist here (its plugins
installed). The tenant gets this deployment's next tenant id; the rows keep their ids
(every key leads with the tenant, so a copy of a city beside the original collides with
nothing), or take new ones with ``new_ids`` (every UUID of the archive replaced,
references included; identifiers quoted inside free JSON, such as audit details, keep
their old value).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Uuid, select
from sqlalchemy.exc import IntegrityError

from .. import accounts, audit, case_search, migrate, rawsql, storage, tenancy
from ..errors import UserError
from ..models import Tenant
from .archive import Reader, decode
from .export import BATCH, tenant_tables


def import_tenant(session, path: str | Path, slug: str | None = None, new_ids: bool = False,
                  progress: Callable[[str, int], None] | None = None,
                  tenant_id: int | None = None) -> Tenant:
    """Create the archive's tenant (as ``slug`` when given; with the id ``tenant_id``
    when given, as a restore does) with every row of the archive. Raises ``UserError`` on
    a version, schema, checksum or slug problem before writing anything; the caller
    commits (or rolls back on any error)."""
    reader = Reader(Path(path))
    try:
        reader.verify()
        manifest = reader.manifest
        heads = sorted(migrate.heads())
        if manifest.schema_heads != heads:
            raise UserError(
                "L'archive a été écrite avec un autre schéma de base "
                f"({', '.join(manifest.schema_heads)}) que celui de cette installation "
                f"({', '.join(heads)}) : mettez les deux installations à la même version.")
        tables = {t.name: t for t in tenant_tables(transient=True)}
        unknown = sorted(set(manifest.tables) - set(tables))
        if unknown:
            raise UserError("Tables inconnues ici (extension non installée ?) : "
                            + ", ".join(unknown) + ".")
        record = manifest.tenant
        tenant = accounts.create_tenant(session, slug or record["slug"], record["name"],
                                        record["city"], record["timezone"], tenant_id)
        tenant.settings = record.get("settings") or {}
        if record.get("created_at"):
            tenant.created_at = datetime.fromisoformat(record["created_at"])
        session.flush()
        ids: dict[uuid.UUID, uuid.UUID] | None = {} if new_ids else None
        with tenancy.tenant_scope(tenant.id):
            tenancy.carry(session)
            connection = session.connection()
            for table in tenant_tables(transient=True):
                if table.name not in manifest.tables:
                    continue
                count = _load_table(connection, table, reader.rows(table.name), tenant.id,
                                    ids)
                if progress is not None:
                    progress(table.name, count)
            case_search.index_tenant(connection, tenant.id)
            for key in manifest.files:
                storage.stage(session, tenant.id, reader.file(key), key=key)
            audit.record(session, "tenant.import", None, file=Path(path).name,
                         source=record["slug"], new_ids=new_ids)
            session.flush()
        return tenant
    except IntegrityError as exc:
        raise UserError(
            "Import impossible : des lignes de l'archive existent déjà dans cette "
            "installation (mêmes identifiants). Rien n'a été importé ; recommencez avec "
            "de nouveaux identifiants (--new-ids).") from exc
    finally:
        reader.close()


def _load_table(connection, table, rows, tenant_id: int, ids) -> int:
    uuids = [c.name for c in table.columns if isinstance(c.type, Uuid)]
    batch: list[dict] = []
    count = 0
    for raw in rows:
        record = {c.name: decode(c, raw.get(c.name)) for c in table.columns}
        record["tenant_id"] = tenant_id
        if ids is not None:
            for name in uuids:
                if record[name] is not None:
                    record[name] = ids.setdefault(record[name], uuid.uuid4())
        batch.append(record)
        if len(batch) >= BATCH:
            rawsql.bulk_insert(connection, table, batch, tenant_id)
            count += len(batch)
            batch = []
    if batch:
        rawsql.bulk_insert(connection, table, batch, tenant_id)
        count += len(batch)
    return count


def slug_is_free(session, slug: str) -> bool:
    return session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is None
