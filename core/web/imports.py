"""The manager's upload page for a legacy spreadsheet: upload, preview (first rows and
every error), then confirm. The uploaded file waits in the instance folder under an
unguessable token bound to the tenant; confirming twice is harmless (re-importing
creates nothing new)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

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
from ..importer import rejects_csv, run_import
from ..importer.columns import COLUMN_LABELS, COLUMNS
from ..policy import allow
from . import sections

bp = Blueprint("imports", __name__, url_prefix="/t/<tenant>/reprise")

sections.nav_item("Reprise d'historique", "imports.upload", {"manager"}, order=85)

MAX_UPLOAD = 50 * 1024 * 1024
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _store() -> Path:
    """Where uploads wait for confirmation: ``CCAS_IMPORT_DIR`` or ``<instance>/imports``."""
    configured = current_app.config.get("CCAS_IMPORT_DIR")
    path = Path(configured) if configured else Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _file_of(token: str) -> Path:
    if not TOKEN_RE.match(token or ""):
        abort(404)
    path = _store() / f"{g.tenant.id}-{token}.upload"
    if not path.exists():
        abort(404)
    return path


def _name_of(path: Path) -> str:
    name_file = path.with_suffix(".name")
    return name_file.read_text(encoding="utf-8") if name_file.exists() else "import.csv"


@bp.route("/", methods=["GET", "POST"])
@allow("manager")
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
                token = secrets.token_urlsafe(24)
                target = _store() / f"{g.tenant.id}-{token}.upload"
                target.write_bytes(data)
                target.with_suffix(".name").write_text(Path(sent.filename).name[:200],
                                                       encoding="utf-8")
                return render_template("imports/preview.html", result=result, token=token,
                                       columns=list(COLUMNS))
    status = 422 if errors else 200
    return render_template("imports/upload.html", errors=errors,
                           column_labels=COLUMN_LABELS), status


@bp.route("/<token>/confirmer", methods=["POST"])
@allow("manager")
def confirm(token: str):
    path = _file_of(token)
    skip_invalid = request.form.get("ignorer_invalides") == "oui"
    name = _name_of(path)
    try:
        result = run_import(db.session, g.tenant, path.read_bytes(), name,
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
    if not result.errors:
        path.unlink(missing_ok=True)
        path.with_suffix(".name").unlink(missing_ok=True)
    flash("Import terminé : " + result.summary(), "success")
    return render_template("imports/done.html", result=result, token=token)


@bp.route("/<token>/rejets.csv")
@allow("manager")
def rejects(token: str):
    path = _file_of(token)
    result = run_import(db.session, g.tenant, path.read_bytes(), _name_of(path), dry_run=True)
    db.session.rollback()
    return Response(rejects_csv(result), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="lignes-rejetees.csv"',
    })
