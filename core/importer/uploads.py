"""Uploaded spreadsheets waiting for the manager's confirmation.

A legacy spreadsheet holds names and birth dates: it waits on disk (``CCAS_IMPORT_DIR``)
only between the preview and the confirmation. Each upload is two files, readable by the
service's user only: ``<tenant id>-<token>.upload`` (the bytes) and ``….name`` (the file's
name as sent). The token is unguessable and bound to the tenant. An upload is removed once
its import is confirmed without rejected rows (with rejected rows it stays, for the
rejects download), and every upload older than its time to live
(``CCAS_IMPORT_TTL_HOURS``, default 24) is swept: at each new upload, and by
the worker every hour (job ``imports.sweep``; ``ccas import sweep`` by hand).
"""

from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
DEFAULT_TTL_HOURS = 24


@dataclass(frozen=True)
class Upload:
    token: str
    data: bytes
    filename: str


class UploadStore:
    def __init__(self, root: Path, ttl_hours: float = DEFAULT_TTL_HOURS):
        self.root = Path(root)
        self.ttl_seconds = ttl_hours * 3600

    def _path(self, tenant_id: int, token: str) -> Path:
        return self.root / f"{int(tenant_id)}-{token}.upload"

    def save(self, tenant_id: int, data: bytes, filename: str) -> str:
        """Keep ``data`` until confirmation; return its token."""
        self.root.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        path = self._path(tenant_id, token)
        _write_private(path.with_suffix(".name"), Path(filename).name[:200].encode("utf-8"))
        _write_private(path, data)
        return token

    def load(self, tenant_id: int, token: str, now: float | None = None) -> Upload | None:
        """The tenant's upload under ``token``; ``None`` if unknown, malformed or expired."""
        if not TOKEN_RE.match(token or ""):
            return None
        path = self._path(tenant_id, token)
        try:
            if self._expired(path, now):
                self._remove(path)
                return None
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            name = path.with_suffix(".name").read_text(encoding="utf-8")
        except FileNotFoundError:
            name = "import.csv"
        return Upload(token, data, name)

    def discard(self, tenant_id: int, token: str) -> None:
        if TOKEN_RE.match(token or ""):
            self._remove(self._path(tenant_id, token))

    def sweep(self, now: float | None = None) -> int:
        """Remove every upload (all tenants) past its time to live; return how many."""
        if not self.root.is_dir():
            return 0
        removed = 0
        for path in self.root.glob("*.upload"):
            try:
                if self._expired(path, now):
                    self._remove(path)
                    removed += 1
            except FileNotFoundError:  # removed meanwhile by another request
                continue
        for orphan in self.root.glob("*.name"):  # a name whose upload is gone
            if not orphan.with_suffix(".upload").exists():
                try:
                    if self._expired(orphan, now):
                        orphan.unlink(missing_ok=True)
                except FileNotFoundError:
                    continue
        return removed

    def _expired(self, path: Path, now: float | None) -> bool:
        # A file's age is read on the file system's clock (its mtime), not the platform's.
        now = time.time() if now is None else now
        return now - path.stat().st_mtime > self.ttl_seconds

    @staticmethod
    def _remove(path: Path) -> None:
        path.unlink(missing_ok=True)
        path.with_suffix(".name").unlink(missing_ok=True)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file only the service's user can read (mode 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def store_for(app) -> UploadStore:
    """The application's store: ``CCAS_IMPORT_DIR`` or ``<instance>/imports``."""
    configured = app.config.get("CCAS_IMPORT_DIR")
    root = Path(configured) if configured else Path(app.instance_path) / "imports"
    ttl = float(app.config.get("CCAS_IMPORT_TTL_HOURS") or DEFAULT_TTL_HOURS)
    return UploadStore(root, ttl)
