"""The tenant archive: a ZIP file holding ``manifest.json``, one JSON Lines file per
table (``tables/<table>.jsonl``, one row per line) and the stored documents' files
(``files/<storage key>``), each member's SHA-256 in the manifest.

Values are written by column type so that they read back exactly: UUIDs, dates and
times (ISO 8601, UTC with its offset), decimals as strings, binary as base64, JSON as it
is, enumerations by value. PURE apart from reading and writing the archive file.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import hashlib
import json
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Integer,
    LargeBinary,
    Numeric,
    TypeDecorator,
    Uuid,
)

from ..errors import UserError

FORMAT = "ccas-tenant-export"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"

#: Tables derived from others, never carried: rebuilt when an archive is loaded
#: (``core.case_search.index_tenant``).
DERIVED_TABLES = frozenset({"case_search_tokens"})

#: Tables whose rows are not carried: transient security material and queues.
TRANSIENT_TABLES = frozenset({
    "api_tokens", "form_tokens", "idempotency_keys", "password_reset_tokens",
    "outbox_messages", "user_sessions",
})


@dataclass
class Manifest:
    """What an archive holds: the tenant record, the schema it was written with, and per
    table its row count, member and checksum."""

    tenant: dict
    core_version: str
    schema_heads: list[str]
    plugins: dict[str, str]
    created_at: str
    tables: dict[str, dict] = field(default_factory=dict)
    #: The stored documents' files: storage key -> {"member", "sha256", "size"}.
    files: dict[str, dict] = field(default_factory=dict)
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise UserError("Archive illisible : le manifeste n'est pas du JSON.") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise UserError("Ce fichier n'est pas une archive de territoire ccas-network.")
        if data.get("format_version") != FORMAT_VERSION:
            raise UserError(
                f"Version d'archive {data.get('format_version')!r} non prise en charge "
                f"(cette installation lit la version {FORMAT_VERSION}).")
        try:
            return cls(**data)
        except TypeError as exc:
            raise UserError("Archive illisible : manifeste incomplet.") from exc


# -- values ----------------------------------------------------------------------------


def _kind(column):
    kind = column.type
    return kind.impl if isinstance(kind, TypeDecorator) else kind


def encode(column, value):
    """A column's value as JSON."""
    if value is None:
        return None
    kind = _kind(column)
    if isinstance(kind, Enum):
        return value.value if hasattr(value, "value") else value
    if isinstance(kind, Uuid):
        return str(value)
    if isinstance(kind, DateTime):
        return value.isoformat()
    if isinstance(kind, Date):
        return value.isoformat()
    if isinstance(kind, Numeric) and not isinstance(kind, Integer):
        return str(value)
    if isinstance(kind, LargeBinary):
        return base64.b64encode(value).decode("ascii")
    return value


def decode(column, value):
    """A JSON value back to the column's Python type."""
    if value is None:
        return None
    kind = _kind(column)
    if isinstance(kind, Enum):
        return value
    if isinstance(kind, Uuid):
        return uuid.UUID(value)
    if isinstance(kind, DateTime):
        return datetime.datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return datetime.date.fromisoformat(value)
    if isinstance(kind, Boolean):
        return bool(value)
    if isinstance(kind, Numeric) and not isinstance(kind, Integer):
        return decimal.Decimal(value)
    if isinstance(kind, LargeBinary):
        return base64.b64decode(value)
    if isinstance(kind, JSON):
        return value
    return value


def row_line(table, row) -> str:
    """One row as a JSON line (columns in table order)."""
    return json.dumps({c.name: encode(c, row[c.name]) for c in table.columns},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# -- the file --------------------------------------------------------------------------


class Writer:
    """Writes an archive member by member, keeping each member's checksum."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self._zip = zipfile.ZipFile(self.partial, "w", compression=zipfile.ZIP_DEFLATED)
        self.checksums: dict[str, str] = {}

    def table(self, name: str, lines) -> tuple[int, str]:
        """Write ``lines`` as ``tables/<name>.jsonl``; return ``(rows, sha256)``."""
        member = f"tables/{name}.jsonl"
        digest = hashlib.sha256()
        rows = 0
        with self._zip.open(member, "w", force_zip64=True) as out:
            for line in lines:
                data = (line + "\n").encode("utf-8")
                digest.update(data)
                out.write(data)
                rows += 1
        self.checksums[member] = digest.hexdigest()
        return rows, digest.hexdigest()

    def file(self, key: str, data: bytes) -> dict:
        """Write a stored document's file as ``files/<key>``; return its manifest entry."""
        member = f"files/{key}"
        self._zip.writestr(member, data)
        digest = hashlib.sha256(data).hexdigest()
        self.checksums[member] = digest
        return {"member": member, "sha256": digest, "size": len(data)}

    def finish(self, manifest: Manifest) -> Path:
        self._zip.writestr(MANIFEST, manifest.to_json())
        self._zip.close()
        self.partial.replace(self.path)
        return self.path

    def abort(self) -> None:
        self._zip.close()
        self.partial.unlink(missing_ok=True)


class Reader:
    """Reads an archive, checking each member against the manifest before use."""

    def __init__(self, path: Path):
        path = Path(path)
        if not path.is_file():
            raise UserError(f"Archive introuvable : {path}.")
        try:
            self._zip = zipfile.ZipFile(path)
            self.manifest = Manifest.from_json(self._zip.read(MANIFEST).decode("utf-8"))
        except (zipfile.BadZipFile, KeyError) as exc:
            raise UserError(f"{path} n'est pas une archive de territoire lisible.") from exc

    def verify(self) -> None:
        """Every member listed is present and matches its checksum (nothing read yet is
        trusted before this)."""
        for name, entry in self.manifest.tables.items():
            member = entry["member"]
            digest = hashlib.sha256()
            try:
                with self._zip.open(member) as data:
                    for chunk in iter(lambda d=data: d.read(1 << 20), b""):
                        digest.update(chunk)
            except KeyError as exc:
                raise UserError(f"Archive incomplète : la table {name} manque.") from exc
            if digest.hexdigest() != entry["sha256"]:
                raise UserError(f"Archive altérée : la somme de contrôle de la table {name} "
                                "ne correspond pas au manifeste. Rien n'a été importé.")
        for key, entry in self.manifest.files.items():
            try:
                data = self._zip.read(entry["member"])
            except KeyError as exc:
                raise UserError(f"Archive incomplète : le fichier {key} manque.") from exc
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise UserError(f"Archive altérée : la somme de contrôle du fichier {key} "
                                "ne correspond pas au manifeste. Rien n'a été importé.")

    def file(self, key: str) -> bytes:
        """A stored document's file (checked by :meth:`verify`)."""
        return self._zip.read(self.manifest.files[key]["member"])

    def rows(self, name: str):
        """The rows of table ``name`` as dicts of JSON values."""
        with self._zip.open(self.manifest.tables[name]["member"]) as data:
            for line in data:
                if line.strip():
                    yield json.loads(line)

    def close(self) -> None:
        self._zip.close()
