"""The documents a person must bring: the tenant's list, the case checklist, the letter.

* The tenant's list: :data:`DEFAULT_DOCUMENTS`, replaced by ``tenant.settings["documents"]``
  when set (a list of ``{"code": ..., "label": ...}``), plus what the enabled plugins add
  through ``ccas_required_documents(case)``.
* The checklist of a case is created when it enters ``documents_requested`` (this
  module's ``ccas_case_after_transition``, same transaction); creating it again only adds
  what is missing.
* The secretary marks each document requested, received or waived; every change is
  audited.
* The letter to the person (HTML page to print, PDF) and the e-mail with the list (through
  the outbox, PDF attached).

Nothing is committed here.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, select

from .. import audit, clock, plugins, row_views
from ..cases import local_today
from ..errors import UserError
from ..hookspecs import hookimpl
from ..models import CaseDocument, DocumentStatus, State
from ..outbox import enqueue_email
from ..plugins.calling import PluginFailure
from ..plugins.types import DocumentRequirement
from ..workflow import TransitionError

log = logging.getLogger(__name__)

DEFAULT_DOCUMENTS: tuple[DocumentRequirement, ...] = (
    DocumentRequirement("identity", "Pièce d'identité en cours de validité"),
    DocumentRequirement("address", "Justificatif de domicile de moins de 3 mois"),
    DocumentRequirement("resources", "Justificatifs de ressources des 3 derniers mois"),
    DocumentRequirement("tax_notice", "Dernier avis d'imposition"),
    DocumentRequirement("bank_statements", "Relevés bancaires des 3 derniers mois"),
    DocumentRequirement("bank_details", "Relevé d'identité bancaire (RIB)"),
    DocumentRequirement("project_quote", "Devis ou facture du projet"),
)

CODE_RE = re.compile(r"^[a-z0-9_][a-z0-9_.-]{0,79}$")
CHECKLIST_STATES = frozenset({State.documents_requested})
#: States in which the checklist may still be edited (after that it is history).
EDITABLE_STATES = frozenset(
    {State.documents_requested, State.evaluation, State.instruction, State.adjourned}
)


def tenant_documents(tenant) -> list[DocumentRequirement]:
    """The tenant's own list: its setting ``documents`` or the defaults.

    Raises ``UserError`` naming the faulty entry when the setting is malformed, so a typo
    in the settings is seen instead of silently asking for nothing.
    """
    raw = (getattr(tenant, "settings", None) or {}).get("documents")
    if raw is None:
        return list(DEFAULT_DOCUMENTS)
    if not isinstance(raw, list):
        raise UserError("Réglage « documents » du territoire invalide : une liste est attendue.",
                        status=422)
    out: list[DocumentRequirement] = []
    for index, item in enumerate(raw, start=1):
        code = label = None
        if isinstance(item, dict):
            code, label = item.get("code"), item.get("label")
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            code, label = item
        if not (isinstance(code, str) and CODE_RE.match(code)
                and isinstance(label, str) and label.strip() and len(label) <= 300):
            raise UserError(
                f"Réglage « documents » du territoire invalide (élément {index}) : "
                "un code (minuscules, chiffres, _ . -) et un libellé sont attendus.",
                status=422,
            )
        out.append(DocumentRequirement(code, label.strip()))
    return out


@dataclass(frozen=True)
class Requirement:
    code: str
    label: str
    source: str


def required_documents(tenant, case) -> list[Requirement]:
    """The tenant's list followed by the enabled plugins' additions (first code wins). A
    plugin that fails refuses the action: nothing is written."""
    out = [Requirement(d.code, d.label, "tenant") for d in tenant_documents(tenant)]
    seen = {r.code for r in out}
    try:
        answers = plugins.hooks().ccas_required_documents.answers(case=case, tenant=tenant)
    except PluginFailure as exc:
        raise UserError(
            f"L'extension {plugins.registry().label(exc.plugin)} n'a pas pu donner ses "
            "pièces à demander (erreur) : rien n'a été enregistré.", status=422,
        ) from exc
    for plugin, result in answers.results:
        for doc in result:
            if doc.code in seen:
                continue
            if not CODE_RE.match(doc.code or "") or not (doc.label or "").strip():
                raise UserError(
                    f"L'extension {plugins.registry().label(plugin)} demande une pièce "
                    f"invalide ({doc.code!r}).", status=422,
                )
            seen.add(doc.code)
            out.append(Requirement(doc.code, doc.label.strip()[:300], plugin))
    return out


#: Built once (a statement built per call costs more than the read); the tenant's
#: criterion is added per execution by the session (``core.tenancy``).
_CHECKLIST = (select(CaseDocument).where(CaseDocument.case_id == bindparam("case_id"))
              .order_by(CaseDocument.position, CaseDocument.label))


_CHECKLIST_VIEWS = row_views.statement(
    CaseDocument, CaseDocument.__table__.c.case_id == bindparam("case_id"),
    order_by=(CaseDocument.__table__.c.position, CaseDocument.__table__.c.label))


def checklist_rows(session, case) -> list:
    """:func:`checklist` as read-only rows (``core.row_views``), for the pages."""
    return row_views.read(session, _CHECKLIST_VIEWS, {"case_id": case.id}, CaseDocument)


def checklist(session, case) -> list[CaseDocument]:
    return list(session.scalars(_CHECKLIST, {"case_id": case.id}))


def create_checklist(session, case, tenant, actor=None,
                     now: datetime | None = None) -> list[CaseDocument]:
    """Add the required documents the case does not have yet; returns the added lines."""
    now = now or clock.now()
    existing = {d.code: d for d in checklist(session, case)}
    position = max((d.position for d in existing.values()), default=0)
    added = []
    for req in required_documents(tenant, case):
        if req.code in existing:
            continue
        position += 1
        doc = CaseDocument(
            case_id=case.id, code=req.code, label=req.label, source=req.source,
            position=position, status=DocumentStatus.requested, requested_at=now,
            status_changed_at=now, updated_by_id=getattr(actor, "id", None),
            updated_by_label=audit.actor_label(actor),
        )
        session.add(doc)
        added.append(doc)
    if added:
        audit.record(session, "documents.checklist", case, actor=actor,
                     codes=[d.code for d in added])
    return added


@hookimpl(tryfirst=True)
def ccas_case_after_transition(case, transition, actor, tenant, session) -> None:
    """Entering ``documents_requested`` creates the checklist (same transaction)."""
    if transition.target in CHECKLIST_STATES:
        try:
            create_checklist(session, case, tenant, actor)
        except UserError as exc:
            raise TransitionError(exc.message) from exc
        session.flush()


def _check_editable(case) -> None:
    if case.state not in EDITABLE_STATES:
        raise UserError(
            "La liste des pièces ne se modifie plus à ce stade du dossier.", status=422
        )


def mark(session, document: CaseDocument, status: str, actor=None, note: str | None = None,
         now: datetime | None = None) -> CaseDocument:
    """Set a document's status (requested, received or waived) and record who and when."""
    try:
        value = DocumentStatus(status)
    except ValueError as exc:
        raise UserError(f"Statut de pièce inconnu : {status!r}.", status=422,
                        field="status") from exc
    if note is not None and len(note) > 1000:
        raise UserError("Remarque : 1 000 caractères au plus.", status=422, field="note")
    _check_editable(document.case)
    now = now or clock.now()
    old = document.status
    if value != old:
        document.status = value
        document.status_changed_at = now
        document.received_at = now if value == DocumentStatus.received else None
    if note is not None:
        document.note = note.strip()
    document.updated_by_id = getattr(actor, "id", None)
    document.updated_by_label = audit.actor_label(actor)
    audit.record(session, "documents.mark", document, actor=actor, case_id=document.case_id,
                 code=document.code, old=old.value, new=value.value)
    return document


def add_document(session, case, label: str, actor=None) -> CaseDocument:
    """A document asked of this person only (not on the tenant's list)."""
    label = (label or "").strip()
    if not label:
        raise UserError("Indiquez le nom de la pièce.", status=422, field="label")
    if len(label) > 300:
        raise UserError("300 caractères au plus.", status=422, field="label")
    _check_editable(case)
    docs = checklist(session, case)
    if any(d.label.casefold() == label.casefold() for d in docs):
        raise UserError("Cette pièce est déjà dans la liste.", status=422, field="label")
    n = 1 + sum(1 for d in docs if d.source == "staff")
    codes = {d.code for d in docs}
    while f"staff_{n}" in codes:
        n += 1
    now = clock.now()
    doc = CaseDocument(
        case_id=case.id, code=f"staff_{n}", label=label, source="staff",
        position=max((d.position for d in docs), default=0) + 1, requested_at=now,
        status_changed_at=now, updated_by_id=getattr(actor, "id", None),
        updated_by_label=audit.actor_label(actor),
    )
    session.add(doc)
    audit.record(session, "documents.add", case, actor=actor, label=label)
    return doc


def missing(documents: list[CaseDocument]) -> list[CaseDocument]:
    return [d for d in documents if d.status == DocumentStatus.requested]


# -- the letter and the e-mail ---------------------------------------------------------


@dataclass(frozen=True)
class Letter:
    """What the letter says (the same for the page, the PDF and the e-mail)."""

    tenant_name: str
    city: str
    person_name: str
    address_lines: list[str]
    reference: str
    date_text: str
    documents: list[str]
    closing: str


def letter(tenant, case, documents: list[CaseDocument], today) -> Letter:
    person = case.person
    address = [x for x in (person.address,
                           " ".join(p for p in (person.postal_code, person.city) if p)) if x]
    wanted = [d.label for d in documents if d.status == DocumentStatus.requested]
    return Letter(
        tenant_name=tenant.name, city=tenant.city, person_name=person.full_name,
        address_lines=address, reference=case.reference,
        date_text=today.strftime("%d/%m/%Y"), documents=wanted,
        closing=(getattr(tenant, "settings", None) or {}).get(
            "documents_letter_closing",
            "Merci d'apporter ces pièces (originaux ou copies lisibles) à votre rendez-vous "
            "avec le travailleur social, ou de les déposer à l'accueil du CCAS.",
        ),
    )


def letter_text(data: Letter) -> str:
    lines = [
        f"Bonjour {data.person_name},",
        "",
        f"Pour étudier votre demande de microcrédit personnel (dossier {data.reference}), "
        "nous avons besoin des pièces suivantes :",
        "",
        *[f"- {label}" for label in data.documents],
        "",
        data.closing,
        "",
        f"{data.tenant_name}",
    ]
    return "\n".join(lines)


_PDF_REPLACEMENTS = {
    "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
    "\u2026": "...", "\u00a0": " ", "\u202f": " ", "\u0153": "oe", "\u0152": "OE",
    "\u20ac": "EUR",
}


def _pdf_safe(text: str) -> str:
    """The PDF uses the standard Helvetica font (Latin-1): map the few common characters
    outside it, replace anything else rather than fail."""
    for char, repl in _PDF_REPLACEMENTS.items():
        text = text.replace(char, repl)
    return text.encode("latin-1", "replace").decode("latin-1")


def letter_pdf(data: Letter) -> bytes:
    # deferred: fpdf2 takes about 0.3 s to import; only the PDF needs it
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(_pdf_safe(f"Pièces à fournir – dossier {data.reference}"))
    pdf.set_author(_pdf_safe(data.tenant_name))
    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=UTC))
    pdf.add_page()
    pdf.set_margins(20, 20, 20)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, _pdf_safe(data.tenant_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.ln(6)
    for line in [data.person_name, *data.address_lines]:
        pdf.cell(0, 6, _pdf_safe(line), new_x="LMARGIN", new_y="NEXT", align="R")
    pdf.ln(6)
    pdf.cell(0, 6, _pdf_safe(f"{data.city}, le {data.date_text}"), new_x="LMARGIN",
             new_y="NEXT", align="R")
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, _pdf_safe(f"Objet : pièces à fournir – dossier {data.reference}"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.ln(2)
    pdf.multi_cell(0, 6, _pdf_safe(
        f"Bonjour {data.person_name},\n\nPour étudier votre demande de microcrédit personnel, "
        "nous avons besoin des pièces suivantes :"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for label in data.documents:
        pdf.multi_cell(0, 6, _pdf_safe(f"[  ]  {label}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.multi_cell(0, 6, _pdf_safe(data.closing), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.cell(0, 6, _pdf_safe(data.tenant_name), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def email_list(session, tenant, case, actor=None, today=None):
    """Queue the e-mail to the person with the list of requested documents (PDF attached).

    Raises ``UserError`` when the person has no e-mail address or nothing is requested.
    """
    person = case.person
    if not person.email:
        raise UserError("Cette personne n'a pas d'adresse e-mail : imprimez le courrier.",
                        status=422)
    documents = checklist(session, case)
    data = letter(tenant, case, documents, today or local_today(tenant))
    if not data.documents:
        raise UserError("Aucune pièce n'est en attente : rien à envoyer.", status=422)
    message = enqueue_email(
        session, person.email,
        f"{tenant.name} – pièces à fournir pour votre demande ({case.reference})",
        letter_text(data),
        attachments=[(f"pieces-{case.reference}.pdf", "application/pdf", letter_pdf(data))],
        topic=f"case:{case.id}:documents",
    )
    audit.record(session, "documents.email", case, actor=actor, to=person.email,
                 codes=[d.code for d in documents if d.status == DocumentStatus.requested])
    return message
