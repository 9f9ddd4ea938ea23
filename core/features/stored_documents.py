"""Documents stored on a case: the files themselves (a scanned identity card, a bank
statement, the quote for the purchase…), typed and dated.

* A file is accepted when its *content* is a PDF, a JPEG or a PNG (its first bytes, never
  its name nor the type the browser announced) and it is not larger than
  ``CCAS_DOCUMENT_MAX_MB`` (default 8).
* Its type (``kind``) is a document code: one of the case's checklist, of the tenant's
  list or ``other``; several files per type are allowed. Dates of issue and expiry are
  optional; a document past its expiry date is kept but no longer counts as valid.
* Attaching a valid document ticks the checklist line of its type ("Reçue").
* The bytes go to the file store (``core.storage``: a directory outside the web root,
  tenant in the path, random names); the row holds the metadata and the checksum.
* Every attachment, read and removal is audited. Nothing is committed here.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date

from flask import current_app
from sqlalchemy import bindparam, select

from .. import audit, row_views, storage, workflow
from ..cases import local_today, parse_date
from ..errors import NotFound, UserError
from ..models import CaseDocument, DocumentStatus, StoredDocument
from . import documents

#: The content types recognised by their first bytes.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
CONTENT_LABELS = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
DEFAULT_MAX_MB = 8
OTHER = "other"
OTHER_LABEL = "Autre pièce"


def safe_filename(filename: str | None) -> str:
    """The last part of ``filename`` without control characters or lone surrogates
    (which no database stores in text), at most 200 characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cs", "Cf"))
    return name.strip()[:200]


def sniff(data: bytes) -> str | None:
    """The content type of ``data`` read from its first bytes, or ``None``."""
    for magic, content_type in SIGNATURES:
        if data.startswith(magic):
            return content_type
    return None


def max_bytes(app=None) -> int:
    app = app or current_app
    return int(app.config.get("CCAS_DOCUMENT_MAX_MB") or DEFAULT_MAX_MB) * 1024 * 1024


def kinds(session, tenant, case, checklist=None) -> list[tuple[str, str]]:
    """The document types one may attach to ``case``: its checklist's, then the tenant's
    list, then "other" (code, French label). ``checklist``: the case's, if already read."""
    out: dict[str, str] = {}
    if checklist is None:
        checklist = documents.checklist(session, case)
    for line in checklist:
        out.setdefault(line.code, line.label)
    try:
        for req in documents.tenant_documents(tenant):
            out.setdefault(req.code, req.label)
    except UserError:  # a malformed setting: the checklist and "other" still work
        pass
    out.setdefault(OTHER, OTHER_LABEL)
    return list(out.items())


def kind_label(session, tenant, case, kind: str) -> str:
    return dict(kinds(session, tenant, case)).get(kind, kind)


#: Built once (a statement built per call costs more than the read); the tenant's
#: criterion is added per execution by the session (``core.tenancy``).
_STORED = (select(StoredDocument).where(StoredDocument.case_id == bindparam("case_id"))
           .order_by(StoredDocument.kind, StoredDocument.uploaded_at.desc()))


_STORED_VIEWS = row_views.statement(
    StoredDocument, StoredDocument.__table__.c.case_id == bindparam("case_id"),
    order_by=(StoredDocument.__table__.c.kind, StoredDocument.__table__.c.uploaded_at.desc()))


def stored_rows(session, case) -> list:
    """:func:`stored` as read-only rows (``core.row_views``), for the pages."""
    return row_views.read(session, _STORED_VIEWS, {"case_id": case.id}, StoredDocument)


def stored(session, case) -> list[StoredDocument]:
    """The files of ``case``, by type then newest first."""
    return list(session.scalars(_STORED, {"case_id": case.id}))


def get(session, case, file_id) -> StoredDocument:
    """The document ``file_id`` of ``case``; ``NotFound`` (404) for a malformed id, an
    unknown one or another case's."""
    try:
        key = file_id if isinstance(file_id, uuid.UUID) else uuid.UUID(str(file_id))
    except ValueError as exc:
        raise NotFound("Cette pièce") from exc
    row = session.scalar(select(StoredDocument).where(
        StoredDocument.id == key, StoredDocument.case_id == case.id))
    if row is None:
        raise NotFound("Cette pièce")
    return row


def _check_open(case) -> None:
    if workflow.current().is_terminal(case.state):
        raise UserError("Le dossier est clos : on n'y dépose plus de pièce.", status=422)


def _check_dates(issued_on: date | None, expires_on: date | None, today: date) -> None:
    if issued_on and issued_on > today:
        raise UserError("La date de délivrance ne peut pas être dans le futur.", status=422,
                        field="issued_on")
    if issued_on and expires_on and expires_on < issued_on:
        raise UserError("La date d'expiration précède la date de délivrance.", status=422,
                        field="expires_on")


def attach(session, tenant, case, *, kind: str, data: bytes, filename: str,
           issued_on: date | None = None, expires_on: date | None = None, actor=None,
           limit: int | None = None, today: date | None = None) -> StoredDocument:
    """Store ``data`` as a document of type ``kind`` on ``case``. Raises ``UserError``
    (French, naming the field) for an unknown type, an empty, too large or unrecognised
    file, or inconsistent dates: nothing is written then."""
    _check_open(case)
    today = today or local_today(tenant)
    if kind not in dict(kinds(session, tenant, case)):
        raise UserError("Choisissez le type de la pièce.", status=422, field="kind")
    if not data:
        raise UserError("Choisissez un fichier à déposer.", status=422, field="file")
    limit = limit if limit is not None else max_bytes()
    if len(data) > limit:
        raise UserError(f"Fichier trop volumineux : {limit // (1024 * 1024)} Mo au plus.",
                        status=413, field="file")
    content_type = sniff(data)
    if content_type is None:
        raise UserError("Ce fichier n'est ni un PDF, ni une image JPEG ou PNG (son contenu "
                        "a été vérifié, pas son nom).", status=422, field="file")
    _check_dates(issued_on, expires_on, today)
    name = safe_filename(filename)
    name = name or f"piece.{EXTENSIONS[content_type]}"
    key = storage.stage(session, tenant.id, data)
    doc = StoredDocument(
        case_id=case.id, kind=kind, issued_on=issued_on, expires_on=expires_on,
        filename=name, content_type=content_type, size=len(data),
        sha256=storage.checksum(data), storage_key=key,
        uploaded_by_id=getattr(actor, "id", None),
        uploaded_by_label=audit.actor_label(actor),
    )
    session.add(doc)
    session.flush()
    audit.record(session, "documents.attach", doc, actor=actor, case_id=case.id, kind=kind,
                 size=len(data), content_type=content_type)
    if doc.valid_on(today):
        tick(session, case, kind, actor)
    return doc


def attach_upload(session, tenant, case, *, kind: str | None, data: bytes,
                  filename: str | None, issued_on: str | None = None,
                  expires_on: str | None = None, actor=None) -> StoredDocument:
    """:func:`attach` from what a form or an API client sent: the dates as typed
    (``2026-03-01`` or ``01/03/2026``, empty: none), checked before anything is written."""
    return attach(session, tenant, case, kind=kind or "", data=data, filename=filename or "",
                  issued_on=parse_date(issued_on, "issued_on"),
                  expires_on=parse_date(expires_on, "expires_on"), actor=actor)


def tick(session, case, kind: str, actor=None) -> CaseDocument | None:
    """Mark the checklist line of ``kind`` received (a valid document was attached)."""
    if case.state not in documents.EDITABLE_STATES:
        return None
    line = session.scalar(select(CaseDocument).where(CaseDocument.case_id == case.id,
                                                     CaseDocument.code == kind))
    if line is None or line.status != DocumentStatus.requested:
        return None
    return documents.mark(session, line, DocumentStatus.received.value, actor)


def content(doc: StoredDocument) -> bytes:
    """The file's bytes (``UserError`` 404 when the file is missing from the store)."""
    try:
        data = storage.storage().read(doc.tenant_id, doc.storage_key)
    except FileNotFoundError as exc:
        raise UserError("Fichier introuvable dans le stockage.", status=404) from exc
    return data


def read(session, doc: StoredDocument, actor=None) -> bytes:
    """The file's bytes, the read audited."""
    data = content(doc)
    audit.record(session, "documents.file_read", doc, actor=actor, case_id=doc.case_id,
                 kind=doc.kind)
    return data


def remove(session, doc: StoredDocument, actor=None) -> None:
    """Delete the document; its file goes once the session commits."""
    _check_open(doc.case)
    audit.record(session, "documents.remove", doc, actor=actor, case_id=doc.case_id,
                 kind=doc.kind)
    session.delete(doc)
    session.flush()


def download_name(doc: StoredDocument, reference: str) -> str:
    """A file name for the download that carries no user-typed text."""
    return f"{reference}-{doc.kind}-{doc.uploaded_at:%Y%m%d}.{EXTENSIONS[doc.content_type]}"
