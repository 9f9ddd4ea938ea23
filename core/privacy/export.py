"""Subject access (RGPD article 15): everything held about one person, as JSON and as a
readable French PDF. The rows are found through the registry's links
(``core.privacy.registry``): every table's rows linked to the person, the messages sent to
them and the audit trail of their file (who consulted or changed it).

A person known only through referrals that never became a case
(``core.privacy.referred``) gets the same export from their referrals
(:func:`referred_data`): the referrals, their status history and attachments, the
messages naming them and the audit trail of those rows, i.e. what an erasure would
anonymise or delete (``core.privacy.purge.anonymise_referrals``)."""

from __future__ import annotations

import base64
import io
import json
import uuid
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from .. import clock, formats, labels
from ..features import stored_documents
from ..models import AuditEvent, Person, Referral, StoredDocument
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
    "from_organisation": "Orientée par", "to_organisation": "Orientée vers",
    "extra": "Champs du partenaire", "consent": "Consentement",
    "consent_at": "Consentement recueilli le", "consent_by": "Consentement recueilli par",
    "decline_reason": "Motif du refus (code)", "updated_at": "Dernière activité",
    "status_changed_at": "Statut changé le", "reminded_at": "Relancée le",
    "from_status": "Depuis", "to_status": "Vers", "actor_label": "Par",
    "reason_code": "Motif (code)", "filename": "Fichier", "content_type": "Type",
    "size": "Taille (octets)", "recipient": "Destinataire", "subject": "Objet du message",
    "actor": "Par", "action": "Action", "detail": "Détail", "kind": "Type de pièce",
    "issued_on": "Délivrée le", "expires_on": "Expire le", "uploaded_at": "Déposée le",
    "sha256": "Empreinte SHA-256", "import_key": "Clé de reprise d'historique",
    "data": "Données du changement d'état", "reason": "Motif",
    "override_reason": "Motif du passage outre", "content": "Contenu du fichier",
    "suggested_action": "Action proposée", "outcome": "Suite donnée",
    "payload": "Contenu du message", "topic": "Sujet technique",
    "last_error": "Dernière erreur d'envoi", "response_body": "Réponse enregistrée",
    "request": "La demande", "resources": "Ressources et charges",
    "prospects": "Perspectives", "relationship": "Lien avec la personne",
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
    out = {c.name: _jsonable(getattr(row, c.name, None))
           for c in table.c if c.name not in _SKIPPED}
    if isinstance(row, Referral):  # who referred the person to whom, not only their ids
        out["from_organisation"] = row.from_organisation.name
        out["to_organisation"] = row.to_organisation.name
    return out


def _tables(session, registry, ids: dict[str, set], outbox) -> dict:
    """The export's blocks: the rows of ``ids`` per table, the ``outbox`` messages and the
    audit trail of those rows."""
    tables = {}
    for d in registry.values():
        rows = purge.rows_of(session, d, ids.get(d.table, set()))
        if rows:
            tables[d.table] = {"label": d.label or d.table,
                               "rows": [_row_dict(r) for r in rows]}
    if outbox:
        tables["outbox_messages"] = {"label": registry["outbox_messages"].label,
                                     "rows": [_row_dict(m) for m in outbox]}
    id_strings = [str(i) for group in ids.values() for i in group]
    events = []
    for start in range(0, len(id_strings), 500):
        events.extend(session.scalars(select(AuditEvent).where(
            AuditEvent.object_id.in_(id_strings[start:start + 500]))))
    if events:
        events.sort(key=lambda e: (e.at, str(e.id)))
        tables["audit_events"] = {"label": registry["audit_events"].label,
                                  "rows": [_row_dict(e) for e in events]}
    return tables


def subject_data(session, person: Person, tenant=None) -> dict:
    """Every row held about ``person`` (JSON-ready)."""
    registry = descriptors()
    ids = purge.linked_ids(session, person.id, registry)
    values = purge.personal_values(session, person, ids, registry)
    outbox = purge.outbox_rows(session, person, ids, values)
    return {
        "generated_at": clock.now().isoformat(),
        "tenant": getattr(tenant, "slug", None),
        "subject": "person",
        "person_id": str(person.id),
        "retention_months": purge.retention_months(tenant) if tenant is not None else None,
        "tables": _tables(session, registry, ids, outbox),
    }


def referred_data(session, referrals: list[Referral], tenant=None) -> dict:
    """Every row held about a person known only through ``referrals`` (referrals without
    case, ``core.privacy.referred.same_person``), JSON-ready: the rows linked to the
    referrals and the messages an erasure would delete (per referral, as
    ``purge.plan_referral`` finds them: its rows, its values less those a live file also
    holds)."""
    registry = descriptors()
    ids = purge.linked_rows(session, {"referrals": {r.id for r in referrals}}, registry)
    skip = {r.id for r in referrals}
    outbox: dict = {}
    for referral in referrals:
        own = purge.linked_rows(session, {"referrals": {referral.id}}, registry)
        values = purge.personal_values(session, referral, own, registry)
        searched = values - purge.still_held(session, referral, values, skip_referrals=skip)
        for message in purge.outbox_rows(session, referral, own, searched):
            outbox[message.id] = message
    return {
        "generated_at": clock.now().isoformat(),
        "tenant": getattr(tenant, "slug", None),
        "subject": "referrals",
        "referral_ids": [str(r.id) for r in referrals],
        "retention_months": purge.retention_months(tenant) if tenant is not None else None,
        "tables": _tables(session, registry, ids,
                          sorted(outbox.values(), key=lambda m: (m.created_at, str(m.id)))),
    }


def to_json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def stored_files(session, data: dict) -> list[StoredDocument]:
    """The stored documents listed in ``data`` (their files go into the ZIP export)."""
    rows = (data["tables"].get("stored_documents") or {}).get("rows") or []
    keys = [uuid.UUID(r["id"]) for r in rows]
    if not keys:
        return []
    return list(session.scalars(select(StoredDocument).where(StoredDocument.id.in_(keys))
                                .order_by(StoredDocument.uploaded_at)))


def to_zip(data: dict, files: list[tuple[StoredDocument, bytes]], pdf: bytes | None = None
           ) -> bytes:
    """The export as one ZIP: ``donnees.json``, ``donnees.pdf`` when given, and every
    stored document under ``pieces/`` (named by date, type and id; its checksum in
    ``pieces/sommes.sha256``)."""
    buffer = io.BytesIO()
    sums = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("donnees.json", to_json(data))
        if pdf is not None:
            archive.writestr("donnees.pdf", pdf)
        for doc, content in files:
            name = (f"pieces/{doc.uploaded_at:%Y%m%d}-{doc.kind}-{doc.id}."
                    f"{stored_documents.EXTENSIONS.get(doc.content_type, 'bin')}")
            archive.writestr(name, content)
            sums.append(f"{doc.sha256}  {name}")
        if sums:
            archive.writestr("pieces/sommes.sha256", "\n".join(sums) + "\n")
    return buffer.getvalue()


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


#: Columns whose codes the PDF shows in words: column -> vocabulary (``core.labels``).
VALUE_VOCABULARIES = {
    "purpose": "purpose", "state": "case_state", "from_state": "case_state",
    "to_state": "case_state", "employment": "employment", "source": "source",
    "channel": "channel", "kind": "appointment_kind", "mode": "appointment_mode",
}
#: ``status`` and its history mean a different thing per table.
STATUS_VOCABULARIES = {
    "referrals": "referral_status", "referral_status_changes": "referral_status",
    "appointments": "appointment_status", "case_documents": "document_status",
    "case_suggestions": "suggestion_status",
}
MONEY_COLUMNS = {"amount_requested", "amount", "income", "expenses"}


def _shown(table: str, column: str, value) -> str:
    """A value of the subject-access PDF as the person reads it: codes in words, sums of
    money in euros, dates the French way."""
    vocabulary = VALUE_VOCABULARIES.get(column)
    if column in ("status", "from_status", "to_status"):
        vocabulary = STATUS_VOCABULARIES.get(table)
    if vocabulary and isinstance(value, str) and value:
        return labels.label(vocabulary, value, value)
    if column in MONEY_COLUMNS and value not in (None, ""):
        shown = formats.money(value)
        return shown if shown != str(value) else _text(value)
    return _text(value)


def _text(value) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
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
    # deferred: fpdf2 takes about 0.3 s to import; only the PDF needs it
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
                    f"{data.get('retention_months') or 24} mois après "
                    + ("la dernière activité de chaque orientation (la personne n'est "
                       "connue que par des orientations de partenaires)."
                       if data.get("subject") == "referrals" else
                       "le dernier contact, plus longtemps tant qu'un prêt est en cours.")),
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
                if table == "stored_documents" and column == "storage_key":
                    continue
                label = COLUMN_LABELS.get(column, column)
                pdf.multi_cell(0, 4.5, clean(f"{label} : {_shown(table, column, value)}"),
                               new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
    return bytes(pdf.output())
