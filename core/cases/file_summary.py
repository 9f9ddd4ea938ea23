"""The instruction file summary: what the lender needs to decide, as data, a page and a PDF.

It carries the identity, household and situation of the person, the request, the dates of
the interviews with their *shared* notes, and the budget sheet with its figures. Never the
private notes of the social worker. :func:`build` reads the database; :func:`render_pdf`
is pure (data in, bytes out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from .. import cases, formats, workflow
from ..features import stored_documents
from ..models import (
    CHARGE_CATEGORIES,
    EMPLOYMENT_LABELS,
    PURPOSE_LABELS,
    RESOURCE_CATEGORIES,
    SOURCE_LABELS,
)
from ..web.filters import format_money
from . import household, synthesis


@dataclass(frozen=True)
class InterviewSummary:
    held_on: date
    duration_minutes: int | None
    worker: str
    shared_note: str


@dataclass(frozen=True)
class DocumentSummary:
    kind: str
    issued_on: date | None
    expires_on: date | None
    valid: bool


@dataclass
class FileSummary:
    tenant_name: str
    reference: str
    state: str
    intake_date: date
    first_name: str
    last_name: str
    birth_date: date | None
    address_lines: list[str]
    phone: str
    email: str
    adults: int
    children_ages: list[int]
    employment: str
    purpose: str
    amount_requested: Decimal
    project: str
    source: str
    social_worker: str
    interviews: list[InterviewSummary] = field(default_factory=list)
    resources: list[tuple[str, Decimal]] = field(default_factory=list)
    charges: list[tuple[str, Decimal]] = field(default_factory=list)
    figures: object | None = None  # core.cases.budget.BudgetFigures
    submitted_at: datetime | None = None
    documents: list[DocumentSummary] = field(default_factory=list)
    #: ``(name, relationship, age or None, co-borrower)`` of the household's members.
    household: list[tuple[str, str, int | None, bool]] = field(default_factory=list)
    #: The newest synthesis: ``(number, written_at, [(title, text)…])`` or ``None``.
    synthesis: tuple[int, datetime, list[tuple[str, str]]] | None = None


def _documents(session, case, tenant) -> list[DocumentSummary]:
    labels = dict(stored_documents.kinds(session, tenant, case))
    today = cases.local_today(tenant)
    return [DocumentSummary(labels.get(d.kind, d.kind), d.issued_on, d.expires_on,
                            d.valid_on(today))
            for d in stored_documents.stored(session, case)]


def build(session, case, tenant) -> FileSummary:
    person = case.person
    lines = cases.budget_lines(session, case)
    worker = case.social_worker
    submitted = [t.at for t in cases.transitions(session, case)
                 if t.to_state == "submitted_to_lender"]
    interviews = cases.interviews(session, case)
    authors = cases.worker_names(session, (i.social_worker_id for i in interviews))
    return FileSummary(
        tenant_name=tenant.name if tenant is not None else "",
        reference=case.reference,
        state=workflow.current().label(case.state),
        intake_date=case.intake_date,
        first_name=person.first_name,
        last_name=person.last_name,
        birth_date=person.birth_date,
        address_lines=[x for x in (person.address,
                                   " ".join(filter(None, (person.postal_code, person.city))))
                       if x],
        phone=person.phone or "",
        email=person.email or "",
        adults=person.adults or 1,
        children_ages=[int(a) for a in (person.children_ages or [])],
        employment=EMPLOYMENT_LABELS.get(person.employment, "") if person.employment else "",
        purpose=PURPOSE_LABELS[case.purpose],
        amount_requested=case.amount_requested,
        project=case.project or "",
        source=SOURCE_LABELS[case.source],
        social_worker=(worker.full_name or worker.email) if worker else "",
        interviews=[
            InterviewSummary(i.held_on, i.duration_minutes,
                             authors.get(i.social_worker_id, ""), i.shared_note)
            for i in interviews
        ],
        resources=[(label, lines[c]) for c, label in RESOURCE_CATEGORIES.items() if c in lines],
        charges=[(label, lines[c]) for c, label in CHARGE_CATEGORIES.items() if c in lines],
        figures=cases.budget_figures(session, case, tenant),
        submitted_at=submitted[0] if submitted else None,
        documents=_documents(session, case, tenant),
        household=[(m.full_name, m.relationship_label, m.age_on(cases.local_today(tenant)),
                    m.id == case.co_borrower_id)
                   for m in household.members(session, person)],
        synthesis=_synthesis(session, case),
    )


def _synthesis(session, case):
    last = synthesis.latest(session, case)
    if last is None:
        return None
    return (last.number, last.written_at,
            [(title, getattr(last, name)) for name, title in synthesis.SUBJECTS])


_PDF_REPLACEMENTS = {
    "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
    "\u2014": "-", "\u2026": "...", "\u0153": "oe", "\u0152": "OE", "\u20ac": "EUR",
    "\u202f": " ", "\u2192": "->",
}


def _safe(text) -> str:
    """The PDF uses the standard Helvetica font (Latin-1): map the common characters
    outside it, replace anything else rather than fail."""
    text = str(text)
    for char, repl in _PDF_REPLACEMENTS.items():
        text = text.replace(char, repl)
    return text.encode("latin-1", "replace").decode("latin-1")


def _money(value) -> str:
    return format_money(value)


def _day(value) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def render_pdf(summary: FileSummary) -> bytes:
    # deferred: fpdf2 takes about 0.3 s to import; only the PDF needs it
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(_safe(f"Dossier {summary.reference} – synthèse d'instruction"))
    pdf.set_author(_safe(summary.tenant_name))
    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=UTC))
    pdf.set_margins(18, 18, 18)
    pdf.add_page()

    def title(text: str, size: int = 12) -> None:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", size)
        pdf.multi_cell(0, 7, _safe(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)

    def row(label: str, value) -> None:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(62, 6, _safe(label))
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 6, _safe(value if value not in (None, "") else "-"),
                       new_x="LMARGIN", new_y="NEXT")

    title(f"{summary.tenant_name}", 13)
    title(f"Synthèse d'instruction - dossier {summary.reference}", 14)
    row("État", summary.state)
    row("Demande reçue le", _day(summary.intake_date))
    if summary.submitted_at:
        row("Transmis au prêteur le", _day(summary.submitted_at))

    title("Identité")
    row("Nom, prénom", f"{summary.last_name} {summary.first_name}")
    row("Date de naissance", _day(summary.birth_date))
    row("Adresse", ", ".join(summary.address_lines))
    row("Téléphone", summary.phone)
    row("Courriel", summary.email)
    row("Situation professionnelle", summary.employment)
    children = ", ".join(f"{a} ans" for a in summary.children_ages) or "aucun"
    adults = formats.plural(summary.adults or 1, "adulte", "adultes")
    row("Foyer", f"{adults} ; enfants : {children}")

    for name, relation, age, co in summary.household:
        row(relation, f"{name}" + (f", {age} ans" if age is not None else "")
            + (" - co-emprunteur" if co else ""))

    title("Demande")
    row("Objet", summary.purpose)
    row("Montant demandé", _money(summary.amount_requested))
    row("Origine", summary.source)
    row("Travailleur social", summary.social_worker)
    row("Projet", summary.project)

    title("Budget mensuel")
    for label, amount in summary.resources:
        row(f"+ {label}", _money(amount))
    for label, amount in summary.charges:
        row(f"- {label}", _money(amount))
    fig = summary.figures
    if fig is None:
        pdf.multi_cell(0, 6, _safe("Budget non renseigné."), new_x="LMARGIN", new_y="NEXT")
    else:
        row("Total des ressources", _money(fig.resources))
        row("Total des charges", _money(fig.charges))
        row("Reste à vivre mensuel", _money(fig.remaining))
        row("Unités de consommation", f"{fig.consumption_units}".replace(".", ","))
        row("Reste à vivre par unité", f"{_money(fig.remaining_per_unit_month)} par mois, "
                                       f"{_money(fig.remaining_per_unit_day)} par jour")
        row("Mensualité supportable", f"{_money(fig.max_instalment)} au plus (seuil "
                                      f"{_money(fig.min_remaining_per_unit_per_day)} "
                                      "par unité et par jour)")

    title("Synthèse de la situation")
    if summary.synthesis is None:
        pdf.multi_cell(0, 6, _safe("Pas de synthèse rédigée."), new_x="LMARGIN", new_y="NEXT")
    else:
        number, written_at, parts = summary.synthesis
        pdf.multi_cell(0, 6, _safe(f"Version {number} du {_day(written_at)}"),
                       new_x="LMARGIN", new_y="NEXT")
        for heading, text in parts:
            pdf.set_font("Helvetica", "B", 10)
            pdf.multi_cell(0, 6, _safe(heading), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "", 10)
            pdf.multi_cell(0, 6, _safe(text or "-"), new_x="LMARGIN", new_y="NEXT")

    title("Pièces déposées")
    if not summary.documents:
        pdf.multi_cell(0, 6, _safe("Aucune pièce déposée."), new_x="LMARGIN", new_y="NEXT")
    for d in summary.documents:
        dates = []
        if d.issued_on:
            dates.append(f"délivrée le {_day(d.issued_on)}")
        if d.expires_on:
            dates.append(f"expire le {_day(d.expires_on)}")
        if not d.valid:
            dates.append("expirée")
        row(d.kind, ", ".join(dates) or "déposée")

    title("Entretiens d'évaluation")
    if not summary.interviews:
        pdf.multi_cell(0, 6, _safe("Aucun entretien enregistré."), new_x="LMARGIN",
                       new_y="NEXT")
    for i in summary.interviews:
        duration = f", {i.duration_minutes} min" if i.duration_minutes else ""
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(0, 6, _safe(f"{_day(i.held_on)}{duration} - {i.worker}"),
                       new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 6, _safe(i.shared_note or "-"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    return bytes(pdf.output())
