"""Subject access (RGPD article 15): everything held about one person, as JSON and as a
readable French PDF. The rows are found through the registry's links
(``core.privacy.registry``): every table's rows linked to the person, the messages sent to
them and the audit trail of their file (who consulted or changed it)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from ..models import AuditEvent, Person
from . import purge
from .registry import descriptors

#: French labels of common columns in the PDF (others show their technical name).
COLUMN_LABELS = {
    "first_name": "Prénom", "last_name": "Nom", "birth_date": "Date de naissance",
    "phone": "Téléphone", "email": "Courriel", "address": "Adresse",
    "postal_code": "Code postal", "city": "Ville", "adults": "Adultes du foyer",
    "children_ages": "Âges des enfants", "employment": "Situation professionnelle",
    "monthly_resources": "Ressources mensuelles", "created_at": "Créé le",
    "last_contact_at": "Dernier contact", "anonymised_at": "Anonymisé le",
    "reference": "Référence", "purpose": "Objet", "amount_requested": "Montant demandé",
    "project": "Projet", "state": "État", "intake_date": "Demande reçue le",
    "shared_note": "Note partagée", "private_note": "Note privée", "note": "Note",
    "held_on": "Date", "status": "Statut", "amount": "Montant", "category": "Catégorie",
    "starts_at": "Début", "place": "Lieu", "outcome_note": "Compte rendu",
    "message": "Message", "comment": "Commentaire", "at": "Date", "to_state": "Vers",
    "from_state": "Depuis", "reason_text": "Motif", "label": "Libellé",
}
_SKIPPED = {"tenant_id", "version"}


def _jsonable(value):
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def _row_dict(row) -> dict:
    table = row.__table__
    return {c.name: _jsonable(getattr(row, c.name, None))
            for c in table.c if c.name not in _SKIPPED}


def subject_data(session, person: Person, tenant=None) -> dict:
    """Every row held about ``person`` (JSON-ready)."""
    registry = descriptors()
    ids = purge.linked_ids(session, person.id, registry)
    values = purge.personal_values(session, person, ids, registry)
    tables = {}
    for d in registry.values():
        rows = purge._rows(session, d, ids.get(d.table, set()))  # noqa: SLF001 - same package
        if rows:
            tables[d.table] = {"label": d.label or d.table,
                               "rows": [_row_dict(r) for r in rows]}
    outbox = purge._outbox_rows(session, person, ids, values)  # noqa: SLF001
    if outbox:
        tables["outbox_messages"] = {"label": registry["outbox_messages"].label,
                                     "rows": [_row_dict(m) for m in outbox]}
    id_strings = [str(i) for group in ids.values() for i in group]
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.object_id.in_(id_strings))
        .order_by(AuditEvent.at)).all() if id_strings else []
    if events:
        tables["audit_events"] = {"label": registry["audit_events"].label,
                                  "rows": [_row_dict(e) for e in events]}
    return {
        "generated_at": datetime.now(UTC).isoformat(),
        "tenant": getattr(tenant, "slug", None),
        "person_id": str(person.id),
        "retention_months": purge.retention_months(tenant) if tenant is not None else None,
        "tables": tables,
    }


def to_json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")


# -- PDF ---------------------------------------------------------------------------------

_FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu",
              "/usr/local/share/fonts", "/Library/Fonts")


def _font() -> tuple[Path, Path] | None:
    for folder in _FONT_DIRS:
        regular, bold = Path(folder, _FONT_FILES[0]), Path(folder, _FONT_FILES[1])
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def _text(value) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, str) and len(value) > 10 and value[4] == "-" and value[7] == "-":
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        return parsed.strftime("%d/%m/%Y %H:%M" if "T" in value else "%d/%m/%Y")
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def to_pdf(data: dict, person_name: str, tenant_name: str = "") -> bytes:
    """A readable French PDF of :func:`subject_data` (binary contents listed, not shown)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    font = _font()
    if font:
        pdf.add_font("Doc", "", str(font[0]))
        pdf.add_font("Doc", "B", str(font[1]))
        family = "Doc"
    else:
        family = "Helvetica"

    def clean(text: str) -> str:
        if font:
            return text
        text = text.replace("€", "EUR").replace("—", "-").replace("’", "'")
        return text.encode("latin-1", "replace").decode("latin-1")

    pdf.set_title(clean(f"Données personnelles – {person_name}"))
    pdf.set_lang("fr")
    pdf.set_creator("ccas-network")
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    pdf.set_font(family, "B", 15)
    pdf.multi_cell(0, 8, clean(f"Données personnelles détenues sur {person_name}"),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    generated = datetime.fromisoformat(data["generated_at"]).strftime("%d/%m/%Y")
    pdf.multi_cell(
        0, 5, clean(f"{tenant_name} – réponse à une demande d'accès (RGPD, article 15), "
                    f"établie le {generated}. Durée de conservation : "
                    f"{data.get('retention_months') or 24} mois après le dernier contact, "
                    "plus longtemps tant qu'un prêt est en cours."),
        new_x="LMARGIN", new_y="NEXT")
    for table, block in data["tables"].items():
        pdf.ln(3)
        pdf.set_font(family, "B", 12)
        pdf.multi_cell(0, 7, clean(f"{block['label']} ({len(block['rows'])})"),
                       new_x="LMARGIN", new_y="NEXT")
        for number, row in enumerate(block["rows"], start=1):
            pdf.set_font(family, "B", 9)
            pdf.multi_cell(0, 5, clean(f"{block['label']} n° {number}"),
                           new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(family, "", 9)
            for column, value in row.items():
                if column == "id" or column.endswith("_id"):
                    continue
                if table == "referral_attachments" and column == "content":
                    value = f"fichier joint ({row.get('size', '?')} octets)"
                label = COLUMN_LABELS.get(column, column)
                pdf.multi_cell(0, 4.5, clean(f"{label} : {_text(value)}"),
                               new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
    return bytes(pdf.output())
