"""Where the files of the people's files live: a small storage interface and its one
implementation, a directory outside the web root.

* :class:`Storage` is the interface (``put``, ``read``, ``exists``, ``delete``,
  ``keys``, ``delete_tenant``); :class:`DirectoryStorage` implements it on a directory
  (``CCAS_FILES_DIR``, default ``<instance>/files``). An S3-compatible store would
  implement the same methods (one object per key under a prefix per tenant); see
  docs/documents.md. Not built.
* A file is addressed by ``(tenant_id, key)``: the tenant is part of the path
  (``<root>/<tenant id>/<key[:2]>/<key>``) and the key is 32 random bytes in hex, so no
  name is guessable and no path comes from what a user typed.
* The database row and the file must agree: :func:`stage` writes the file now and
  deletes it again if the session rolls back; :func:`discard` deletes the file only once
  the session has committed the row's deletion. A deleted ``StoredDocument`` row (a purge,
  a case removed) takes its file with it after commit (session events below), so no file
  outlives its row.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

KEY_RE = re.compile(r"^[0-9a-f]{64}$")
_WRITTEN = "ccas_files_written"
_DISCARDED = "ccas_files_discarded"


class Storage:
    """What the platform needs of a file store. Keys come from :func:`new_key`."""

    def put(self, tenant_id: int, key: str, data: bytes) -> None:
        raise NotImplementedError

    def read(self, tenant_id: int, key: str) -> bytes:
        """The file's bytes; ``FileNotFoundError`` when absent."""
        raise NotImplementedError

    def exists(self, tenant_id: int, key: str) -> bool:
        raise NotImplementedError

    def delete(self, tenant_id: int, key: str) -> None:
        """Remove the file (no error when already absent)."""
        raise NotImplementedError

    def keys(self, tenant_id: int) -> Iterator[str]:
        """Every key held for the tenant."""
        raise NotImplementedError

    def delete_tenant(self, tenant_id: int) -> None:
        """Remove every file of the tenant."""
        raise NotImplementedError


def new_key() -> str:
    return secrets.token_hex(32)


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class DirectoryStorage(Storage):
    """Files in a directory, readable by the service's user only."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _tenant_dir(self, tenant_id: int) -> Path:
        return self.root / str(int(tenant_id))

    def _path(self, tenant_id: int, key: str) -> Path:
        if not KEY_RE.match(key or ""):
            raise ValueError("malformed storage key")
        return self._tenant_dir(tenant_id) / key[:2] / key

    def put(self, tenant_id: int, key: str, data: bytes) -> None:
        path = self._path(tenant_id, key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_name(path.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        partial.replace(path)

    def read(self, tenant_id: int, key: str) -> bytes:
        return self._path(tenant_id, key).read_bytes()

    def exists(self, tenant_id: int, key: str) -> bool:
        return self._path(tenant_id, key).is_file()

    def delete(self, tenant_id: int, key: str) -> None:
        self._path(tenant_id, key).unlink(missing_ok=True)

    def keys(self, tenant_id: int) -> Iterator[str]:
        folder = self._tenant_dir(tenant_id)
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("*/*")):
            if KEY_RE.match(path.name):
                yield path.name

    def delete_tenant(self, tenant_id: int) -> None:
        shutil.rmtree(self._tenant_dir(tenant_id), ignore_errors=True)


def files_dir(app=None) -> Path:
    """``CCAS_FILES_DIR`` or ``<instance>/files`` (the instance folder is not served)."""
    app = app or current_app
    configured = app.config.get("CCAS_FILES_DIR")
    return Path(configured) if configured else Path(app.instance_path) / "files"


def storage(app=None) -> Storage:
    """The application's file store."""
    app = app or current_app
    store = app.extensions.get("ccas_storage")
    if store is None:
        store = app.extensions["ccas_storage"] = DirectoryStorage(files_dir(app))
    return store


# -- the files follow the transaction ---------------------------------------------------


def stage(session, tenant_id: int, data: bytes, store: Storage | None = None,
          key: str | None = None) -> str:
    """Write ``data`` now under ``key`` (a new one by default) and return the key; the
    file is deleted again if ``session`` rolls back (its row was never committed), unless
    it was already there (a tenant restored over itself)."""
    store = store or storage()
    key = key or new_key()
    existed = store.exists(tenant_id, key)
    store.put(tenant_id, key, data)
    session.info.setdefault(_WRITTEN, []).append((store, tenant_id, key, existed))
    return key


def discard(session, tenant_id: int, key: str, store: Storage | None = None) -> None:
    """Delete the file once ``session`` commits (kept if it rolls back)."""
    store = store or storage()
    session.info.setdefault(_DISCARDED, []).append((store, tenant_id, key))


def discard_tenant(session, tenant_id: int, store: Storage | None = None) -> None:
    """Delete every file of the tenant once ``session`` commits (a tenant deleted)."""
    store = store or storage()
    session.info.setdefault(_DISCARDED, []).append((store, tenant_id, None))


@event.listens_for(Session, "after_commit")
def _after_commit(session) -> None:
    # A key written in this transaction survives a discard of the same transaction (a
    # tenant deleted then restored from its own archive).
    written = {(t, k) for _, t, k, _ in session.info.pop(_WRITTEN, [])}
    for store, tenant_id, key in session.info.pop(_DISCARDED, []):
        try:
            keys = list(store.keys(tenant_id)) if key is None else [key]
            for one in keys:
                if (tenant_id, one) not in written:
                    store.delete(tenant_id, one)
        except OSError:  # the row is gone; a file left behind is logged, not fatal
            log.exception("could not delete stored file of tenant %s", tenant_id)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, previous_transaction) -> None:
    if previous_transaction.parent is not None:  # a savepoint: the outer one decides
        return
    session.info.pop(_DISCARDED, None)
    for store, tenant_id, key, existed in session.info.pop(_WRITTEN, []):
        if existed:
            continue
        try:
            store.delete(tenant_id, key)
        except OSError:
            log.exception("could not delete an uncommitted file of tenant %s", tenant_id)


@event.listens_for(Session, "after_flush")
def _deleted_rows(session, flush_context) -> None:
    """A stored document's row deleted through the ORM (a purge) takes its file along
    after commit."""
    if not has_app_context():
        return
    for obj in session.deleted:
        key = getattr(obj, "__stored_file_key__", None)
        if key and getattr(obj, key, None):
            discard(session, obj.tenant_id, getattr(obj, key))
