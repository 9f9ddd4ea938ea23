"""The manager's upload page for a legacy spreadsheet: upload, preview (first rows and
every error), then confirm. The uploaded file waits in ``core.importer.uploads`` under an
unguessable token bound to the tenant, for a day at most; confirming twice is harmless
(re-importing creates nothing new)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from ..db import db
from ..errors import UserError
from ..hookspecs import hookimpl
from ..importer import rejects_csv, run_import
from ..importer.columns import COLUMN_LABELS, COLUMNS
from ..importer.uploads import Upload, UploadStore, store_for
from ..plugins.types import NavItem
from ..policy import MANAGER, allow

bp = Blueprint("imports", __name__, url_prefix="/t/<tenant>/reprise")



@hookimpl
def ccas_nav_items():
    return [NavItem("Reprise d'historique", "imports.upload", MANAGER, order=930,
                    section="Administration")]

MAX_UPLOAD = 50 * 1024 * 1024


def _store() -> UploadStore:
    return store_for(current_app)


def _upload_of(token: str) -> Upload:
    upload = _store().load(g.tenant.id, token)
    if upload is None:
        abort(404)
    return upload


@bp.route("/", methods=["GET", "POST"])
@allow(MANAGER)
def upload():
    errors: dict = {}
    if request.method == "POST":
        sent = request.files.get("fichier")
        data = sent.read(MAX_UPLOAD + 1) if sent else b""
        if not sent or not sent.filename or not data:
            errors["fichier"] = "Choisissez un fichier CSV ou XLSX."
        elif len(data) > MAX_UPLOAD:
            errors["fichier"] = "Fichier trop volumineux (50 Mo au plus)."
        elif not sent.filename.lower().endswith((".csv", ".txt", ".tsv", ".xlsx")):
            errors["fichier"] = "Format non reconnu : CSV ou XLSX attendu."
        else:
            try:
                result = run_import(db.session, g.tenant, data, sent.filename, dry_run=True)
            except UserError as exc:
                errors["fichier"] = exc.message
            else:
                db.session.rollback()
                store = _store()
                store.sweep()
                token = store.save(g.tenant.id, data, sent.filename)
                return render_template("imports/preview.html", result=result, token=token,
                                       columns=list(COLUMNS))
    status = 422 if errors else 200
    return render_template("imports/upload.html", errors=errors,
                           column_labels=COLUMN_LABELS), status


@bp.route("/<token>/confirmer", methods=["POST"])
@allow(MANAGER)
def confirm(token: str):
    upload = _upload_of(token)
    skip_invalid = request.form.get("ignorer_invalides") == "oui"
    try:
        result = run_import(db.session, g.tenant, upload.data, upload.filename,
                            skip_invalid=skip_invalid, actor=current_user)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("imports.upload"))
    if not result.written:
        db.session.rollback()
        flash("Des lignes sont invalides : rien n'a été enregistré.", "error")
        return render_template("imports/preview.html", result=result, token=token,
                               columns=list(COLUMNS)), 422
    db.session.commit()
    if not result.errors:  # with rejected rows it stays for the rejects download
        _store().discard(g.tenant.id, token)
    flash("Import terminé : " + result.summary(), "success")
    return render_template("imports/done.html", result=result, token=token)


@bp.route("/<token>/rejets.csv")
@allow(MANAGER)
def rejects(token: str):
    upload = _upload_of(token)
    result = run_import(db.session, g.tenant, upload.data, upload.filename, dry_run=True)
    db.session.rollback()
    return Response(rejects_csv(result), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="lignes-rejetees.csv"',
    })
