"""Opening a case: the person (with duplicate detection) and the request.

Used by the intake sheet, the case API, referral acceptance and the legacy import, so that
a case is opened the same way wherever it comes from. Nothing is committed here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from . import audit
from .errors import UserError
from .models import Case, CaseTransition, Employment, Person, Purpose, Source, State

MAX_AMOUNT = Decimal("1000000")


@dataclass
class PersonData:
    first_name: str
    last_name: str
    birth_date: date | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    postal_code: str | None = None
    city: str | None = None
    adults: int = 1
    children_ages: list[int] | None = None
    employment: str | None = None
    monthly_resources: Decimal | None = None


def _norm(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in text if not unicodedata.combining(c)).strip().lower()


def find_duplicates(session, first_name: str, last_name: str, birth_date: date | None) -> list:
    """People of the tenant with the same names (accents and case ignored) and birth date."""
    if birth_date is None:
        return []
    candidates = session.scalars(
        select(Person).where(Person.birth_date == birth_date, Person.anonymised_at.is_(None))
    ).all()
    return [
        p for p in candidates
        if _norm(p.last_name) == _norm(last_name) and _norm(p.first_name) == _norm(first_name)
    ]


def validate_person(data: PersonData) -> None:
    if not (data.first_name or "").strip():
        raise UserError("Le prénom est obligatoire.", status=422, field="first_name")
    if not (data.last_name or "").strip():
        raise UserError("Le nom est obligatoire.", status=422, field="last_name")
    for name in ("first_name", "last_name"):
        if len(getattr(data, name)) > 100:
            raise UserError("100 caractères au plus.", status=422, field=name)
    if data.birth_date is not None:
        today = date.today()
        if data.birth_date > today or data.birth_date.year < today.year - 120:
            raise UserError("Date de naissance invalide.", status=422, field="birth_date")
    if data.employment is not None:
        try:
            Employment(data.employment)
        except ValueError as exc:
            raise UserError(f"Situation professionnelle inconnue : {data.employment!r}.",
                            status=422, field="employment") from exc
    if data.adults is not None and not (1 <= int(data.adults) <= 20):
        raise UserError("Nombre d'adultes entre 1 et 20.", status=422, field="adults")
    for age in data.children_ages or []:
        if not isinstance(age, int) or not (0 <= age <= 25):
            raise UserError("Âge d'enfant invalide (0 à 25 ans).", status=422,
                            field="children_ages")


def create_person(session, data: PersonData) -> Person:
    validate_person(data)
    person = Person(
        first_name=data.first_name.strip(), last_name=data.last_name.strip(),
        birth_date=data.birth_date, phone=(data.phone or None), email=(data.email or None),
        address=data.address or None, postal_code=data.postal_code or None,
        city=data.city or None, adults=int(data.adults or 1),
        children_ages=list(data.children_ages or []),
        employment=Employment(data.employment) if data.employment else None,
        monthly_resources=data.monthly_resources,
    )
    session.add(person)
    session.flush()
    audit.record(session, "person.create", person)
    return person


def parse_amount(value, field: str = "amount_requested") -> Decimal:
    """Money from user input: ``"1 200,50"``, ``"1200.5"``, ``1200`` → ``Decimal``; never
    silently rounded (more than 2 decimals is refused)."""
    if isinstance(value, Decimal):
        amount = value
    else:
        text = str(value if value is not None else "").strip().replace("\u202f", "")
        text = text.replace("\u00a0", "").replace(" ", "").replace("€", "").replace(",", ".")
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:
            raise UserError("Montant invalide.", status=422, field=field) from exc
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise UserError("Le montant doit être positif et au plus 1 000 000 €.", status=422,
                        field=field)
    if amount != amount.quantize(Decimal("0.01")):
        raise UserError("Deux décimales au plus.", status=422, field=field)
    return amount.quantize(Decimal("0.01"))


def local_today(tenant) -> date:
    tz = ZoneInfo(tenant.timezone if tenant is not None else "Europe/Paris")
    return datetime.now(tz).date()


def next_reference(session, year: int) -> str:
    prefix = f"{year}-"
    count = session.scalar(
        select(func.count()).select_from(Case).where(Case.reference.like(f"{prefix}%"))
    )
    return f"{prefix}{count + 1:05d}"


def open_case(
    session,
    person: Person,
    purpose: str,
    amount_requested,
    actor=None,
    project: str = "",
    source: str = "phone",
    referring_organisation_id: uuid.UUID | None = None,
    intake_date: date | None = None,
    reference: str | None = None,
    tenant=None,
) -> Case:
    """Open a case in ``intake`` and record its first transition (``None`` → intake)."""
    try:
        purpose_value = Purpose(purpose)
    except ValueError as exc:
        raise UserError(f"Objet inconnu : {purpose!r}.", status=422, field="purpose") from exc
    try:
        source_value = Source(source)
    except ValueError as exc:
        raise UserError(f"Origine inconnue : {source!r}.", status=422, field="source") from exc
    amount = parse_amount(amount_requested)
    if len(project or "") > 5000:
        raise UserError("Description du projet : 5 000 caractères au plus.", status=422,
                        field="project")
    if tenant is None:
        from flask import g

        tenant = g.get("tenant")
    day = intake_date or local_today(tenant)
    case = Case(
        reference=reference or next_reference(session, day.year),
        person_id=person.id, purpose=purpose_value, amount_requested=amount,
        project=(project or "").strip(), source=source_value,
        referring_organisation_id=referring_organisation_id, state=State.intake,
        intake_date=day,
    )
    session.add(case)
    session.flush()
    session.add(
        CaseTransition(case_id=case.id, from_state=None, to_state=State.intake.value,
                       at=datetime.now(UTC), actor_id=getattr(actor, "id", None),
                       actor_label=audit.actor_label(actor))
    )
    person.last_contact_at = datetime.now(UTC)
    audit.record(session, "case.create", case, actor=actor, reference=case.reference)
    return case
