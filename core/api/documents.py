"""Stored documents API: list a case's files, download one, attach one (multipart, the
same checks as the page: content sniffed, size limit), remove one.

Same rules as the pages (``core.web.documents``): the CCAS team attaches and removes;
whoever may read the case's file reads them (the lender's agents once the case was
submitted to them, 404 before). Every read and change is audited by the services."""

from __future__ import annotations

from flask import Response, g, jsonify, request
from flask_login import current_user

from .. import audit, cases
from ..cases import local_today
from ..db import db
from ..errors import UserError
from ..features import stored_documents
from ..policy import CASE_READERS, CCAS_STAFF, allow
from ..schemas.file import dump_document
from .auth import token_authenticated
from .blueprint import bp
from .views import caller_role, created


def _kind_labels(case) -> dict:
    return dict(stored_documents.kinds(db.session, g.tenant, case))


@bp.route("/cases/<case_id>/documents", methods=["GET"])
@token_authenticated
@allow(CASE_READERS)
def list_documents(case_id: str):
    """The files attached to a case, by type then newest first.
    ---
    get:
      summary: List a case's stored documents
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: case_id, required: true, schema: {type: string, format: uuid}}
      responses:
        200:
          content:
            application/json:
              schema: StoredDocumentListSchema
        404:
          description: Unknown case, another tenant's, or a file the caller may not read
            yet (the lender's agents before the submission).
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    case = cases.get_file_case(db.session, case_id, caller_role())
    labels, today = _kind_labels(case), local_today(g.tenant)
    rows = stored_documents.stored(db.session, case)
    body = {"items": [dump_document(d, labels, today) for d in rows], "kinds": labels}
    audit.record(db.session, "case.read", case, view="documents", surface="api")
    db.session.commit()
    return jsonify(body)


@bp.route("/cases/<case_id>/documents", methods=["POST"])
@token_authenticated
@allow(CCAS_STAFF)
def attach_document(case_id: str):
    """Attach a file to a case: a PDF, JPEG or PNG recognised by its content (never its
    name nor the announced type), at most the platform's size limit (8 MB by default). A
    valid document ticks the checklist line of its type.
    ---
    post:
      summary: Attach a stored document
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: case_id, required: true, schema: {type: string, format: uuid}}
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [kind, file]
              properties:
                kind: {type: string, description: "A document code (see `kinds`)."}
                file: {type: string, format: binary}
                issued_on: {type: string, format: date}
                expires_on: {type: string, format: date}
      responses:
        201:
          description: The document stored.
          content:
            application/json:
              schema: StoredDocumentSchema
        404:
          description: Unknown case or another tenant's.
          content:
            application/problem+json:
              schema: ProblemSchema
        413:
          description: File larger than the limit.
          content:
            application/problem+json:
              schema: ProblemSchema
        415:
          description: Not sent as multipart/form-data.
          content:
            application/problem+json:
              schema: ProblemSchema
        422:
          description: Unknown type, empty file, content neither PDF nor JPEG nor PNG,
            inconsistent dates, or a closed case (`errors` names the field).
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    case = cases.get_case(db.session, case_id, caller_role())
    if request.mimetype != "multipart/form-data":
        raise UserError("Envoyez la pièce en multipart/form-data (champs « kind » et "
                        "« file »).", status=415,
                        message_en="Send the file as multipart/form-data.")
    upload = request.files.get("file")
    doc = stored_documents.attach_upload(
        db.session, g.tenant, case, kind=request.form.get("kind"),
        data=upload.read() if upload is not None else b"",
        filename=upload.filename if upload is not None else "",
        issued_on=request.form.get("issued_on"),
        expires_on=request.form.get("expires_on"), actor=current_user)
    body = dump_document(doc, _kind_labels(case), local_today(g.tenant))
    db.session.commit()
    return created(body)


@bp.route("/cases/<case_id>/documents/<file_id>", methods=["GET"])
@token_authenticated
@allow(CASE_READERS)
def download_document(case_id: str, file_id: str):
    """The file itself (its content type: PDF, JPEG or PNG); the read is audited.
    ---
    get:
      summary: Download a stored document
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: case_id, required: true, schema: {type: string, format: uuid}}
        - {in: path, name: file_id, required: true, schema: {type: string, format: uuid}}
      responses:
        200:
          description: The file.
          content:
            application/pdf: {schema: {type: string, format: binary}}
            image/jpeg: {schema: {type: string, format: binary}}
            image/png: {schema: {type: string, format: binary}}
        404:
          description: Unknown case or file, another tenant's, or not readable yet.
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    case = cases.get_file_case(db.session, case_id, caller_role())
    doc = stored_documents.get(db.session, case, file_id)
    data = stored_documents.read(db.session, doc, current_user)
    db.session.commit()
    name = stored_documents.download_name(doc, case.reference)
    return Response(data, mimetype=doc.content_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff"})


@bp.route("/cases/<case_id>/documents/<file_id>", methods=["DELETE"])
@token_authenticated
@allow(CCAS_STAFF)
def remove_document(case_id: str, file_id: str):
    """Remove a stored document (its file goes with it); refused on a closed case.
    ---
    delete:
      summary: Remove a stored document
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: case_id, required: true, schema: {type: string, format: uuid}}
        - {in: path, name: file_id, required: true, schema: {type: string, format: uuid}}
      responses:
        204:
          description: Removed.
        404:
          description: Unknown case or file, or another tenant's.
          content:
            application/problem+json:
              schema: ProblemSchema
        422:
          description: The case is closed.
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    case = cases.get_case(db.session, case_id, caller_role())
    doc = stored_documents.get(db.session, case, file_id)
    stored_documents.remove(db.session, doc, current_user)
    db.session.commit()
    return Response(status=204)
