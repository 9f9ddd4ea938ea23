"""Opening a case: the person (with duplicate detection) and the request.

Used by the intake sheet, the case API, referral acceptance and the legacy import, so that
a case is opened the same way wherever it comes from. Nothing is committed here.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask import g, has_app_context
from sqlalchemy import bindparam, exists, false, func, select
from sqlalchemy import case as sa_case
from sqlalchemy.orm import aliased, contains_eager, joinedload
from sqlalchemy.orm.exc import StaleDataError

from .. import (
    adopted_rows,
    audit,
    case_search,
    clock,
    formats,
    paging,
    plugins,
    sorting,
    tenancy,
    workflow,
)
from ..errors import NotFound, UserError
from ..models import (
    CHARGE_CATEGORIES,
    PURPOSE_LABELS,
    RESOURCE_CATEGORIES,
    BudgetKind,
    BudgetLine,
    Case,
    CaseTransition,
    Employment,
    Interview,
    Organisation,
    Person,
    Purpose,
    Source,
    State,
    User,
)
from ..policy import CCAS_STAFF, SOCIAL_WORKERS
from ..workflow import StaleCase
from . import budget, items

MAX_AMOUNT = Decimal("1000000")
#: The most a person may ask at intake: a personal microcredit is a few thousand euros;
#: above this the figure is a typing mistake, not a request.
MAX_REQUEST = Decimal("100000")


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
        today = clock.today()
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
    resources = data.monthly_resources
    if resources is not None and (
        not Decimal(resources).is_finite() or not 0 <= Decimal(resources) <= MAX_AMOUNT
        or Decimal(resources) != Decimal(resources).quantize(Decimal("0.01"))
    ):
        raise UserError("Ressources mensuelles : montant positif, deux décimales au plus.",
                        status=422, field="monthly_resources")
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


#: An amount as people type it: digits, optionally grouped by threes with spaces, and a
#: comma or a point before at most a few decimals; a euro sign around it is fine.
_AMOUNT_TEXT = re.compile(r"(?P<sign>-?)(?P<units>\d{1,3}(?: \d{3})+|\d+)(?:[.,](?P<cents>\d+))?")
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\t": " "})


def parse_amount(value, field: str = "amount_requested",
                 maximum: Decimal = MAX_AMOUNT) -> Decimal:
    """Money from user input: ``"1 200,50"``, ``"1200.5"``, ``"300 €"``, ``1200`` →
    ``Decimal``. Refused with the rule broken: not written in figures (``"1e6"``,
    ``"abc"``), zero or negative, above ``maximum``, more than two decimals (never
    silently rounded)."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise UserError("Montant invalide : écrivez-le en chiffres, par exemple 1 200,50.",
                            status=422, field=field)
        sign, units, cents = ("-" if value < 0 else ""), None, None
        amount = value
    else:
        text = str(value if value is not None else "").translate(_SPACES).strip()
        text = text.removesuffix("€").removeprefix("€").strip()
        text = re.sub(r" +", " ", text)
        if not text:
            raise UserError("Indiquez le montant.", status=422, field=field)
        match = _AMOUNT_TEXT.fullmatch(text)
        if match is None:
            raise UserError("Montant invalide : écrivez-le en chiffres, par exemple 1 200,50.",
                            status=422, field=field)
        sign, units, cents = match["sign"], match["units"].replace(" ", ""), match["cents"]
        amount = Decimal(f"{sign}{units}.{cents or '0'}")
    if amount <= 0:
        raise UserError("Le montant doit être supérieur à 0 €.", status=422, field=field)
    if amount > maximum:
        raise UserError(f"Le montant ne peut pas dépasser {formats.money(maximum)}.",
                        status=422, field=field)
    if (cents is not None and len(cents) > 2) or amount != amount.quantize(Decimal("0.01")):
        raise UserError("Deux décimales au plus (les centimes).", status=422, field=field)
    return amount.quantize(Decimal("0.01"))


def lending_notices(session, purpose, amount, bounds: list | None = None) -> list[str]:
    """What the CCAS should know of a request against what the enabled lenders lend
    (hook ``ccas_lending_bounds``): nothing when one lender takes it as it is, otherwise
    a sentence per lender. A flag, never a refusal: the CCAS listens first and may
    adjust the amount or reorient. ``bounds``: :func:`lending_bounds`, when the caller
    asks for many cases."""
    if amount is None:
        return []
    purpose = str(getattr(purpose, "value", purpose))
    if bounds is None:
        bounds = lending_bounds(session)
    if not bounds or any(b.minimum <= amount <= b.maximum
                         and (b.purposes is None or purpose in b.purposes) for b in bounds):
        return []
    notices = []
    for b in bounds:
        if b.purposes is not None and purpose not in b.purposes:
            notices.append(f"Cet objet n'est pas financé par {b.lender} : l'entretien dira "
                           "s'il faut réorienter la personne.")
        elif amount < b.minimum:
            notices.append(f"Le montant demandé ({formats.money(amount)}) est inférieur à ce "
                           f"que prête {b.lender} (de {formats.money(b.minimum)} à "
                           f"{formats.money(b.maximum)}) : une aide ou un autre dispositif "
                           "conviendra peut-être mieux.")
        else:
            notices.append(f"Le montant demandé ({formats.money(amount)}) dépasse ce que "
                           f"prête {b.lender} (de {formats.money(b.minimum)} à "
                           f"{formats.money(b.maximum)}) : l'entretien dira s'il faut "
                           "l'ajuster ou réorienter la personne.")
    return notices


def lending_bounds(session) -> list:
    """What the tenant's enabled lenders lend (hook ``ccas_lending_bounds``), asked once
    per request."""
    return plugins.per_request("lending_bounds", lambda: _lending_bounds(session))


def _lending_bounds(session) -> list:
    bounds = []
    for _plugin, answer in plugins.hooks().ccas_lending_bounds.answers(session=session).results:
        bounds.extend(answer if isinstance(answer, list | tuple) else [answer])
    return bounds


def local_today(tenant) -> date:
    """Today in the tenant's time zone (``core.clock.today``)."""
    return clock.today(tenant)


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
    amount = parse_amount(amount_requested, maximum=MAX_REQUEST)
    if len(project or "") > 5000:
        raise UserError("Description du projet : 5 000 caractères au plus.", status=422,
                        field="project")
    if tenant is None:
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
                       at=clock.now(), actor_id=getattr(actor, "id", None),
                       actor_label=audit.actor_label(actor))
    )
    person.last_contact_at = clock.now()
    audit.record(session, "case.create", case, actor=actor, reference=case.reference)
    return case


# -- who sees what -----------------------------------------------------------------------


def visible_cases(role: str, stmt=None):
    """``select(Case)`` (or ``stmt``, a select from ``cases``) limited to what ``role`` may
    know of: the CCAS team sees every case of the tenant; another role (the lender's
    agents) the cases that have reached one of the states the tenant's workflow makes
    visible to it (``visible_from``: the lender plugin's own check, or the submission to
    the lender); anyone else nothing."""
    stmt = select(Case) if stmt is None else stmt
    if role in CCAS_STAFF:
        return stmt
    states = workflow.current().visible_from.get(role)
    if not states:
        return stmt.where(false())
    return stmt.where(exists().where(CaseTransition.case_id == Case.id,
                                     CaseTransition.to_state.in_(states)))


#: Hot reads built once (the tenant criteria are added per statement by ``core.tenancy``):
#: building a statement cost more than running it.
#: The case page shows the referring organisation's name: read with the case (a lazy load
#: would query it apart: its key is ``(tenant_id, id)``, the relationship joins on the id).
_WITH_ORGANISATION = joinedload(Case.referring_organisation)
_CASES, _PERSONS, _ORGS = Case.__table__, Person.__table__, Organisation.__table__


def _case_row(page: bool):
    """The CCAS team's read of one case with its person (and, for the page, the referring
    organisation): one Core read under the tenant wall, adopted as loaded objects
    (``core.adopted_rows``), a third of the ORM load's cost."""
    joined = _CASES.join(_PERSONS, _PERSONS.c.id == _CASES.c.person_id)
    columns = [*adopted_rows.columns(Case, "case_"), *adopted_rows.columns(Person, "person_")]
    if page:
        joined = tenancy.outer_join(joined, _ORGS,
                                    _ORGS.c.id == _CASES.c.referring_organisation_id)
        columns += adopted_rows.columns(Organisation, "org_")
    return tenancy.scoped_select(
        select(*columns).select_from(joined).where(_CASES.c.id == bindparam("case_id")))


_CASE_ROW, _CASE_PAGE_ROW = _case_row(page=False), _case_row(page=True)


def _adopted_case(session, row, page: bool) -> Case:
    related = {"person": adopted_rows.adopted(session, Person, "person_", row)}
    if page:
        related["referring_organisation"] = None if row.org_id is None else \
            adopted_rows.adopted(session, Organisation, "org_", row)
    return adopted_rows.adopted(session, Case, "case_", row, **related)


#: The detail reads of a case run as Core (``core.tenancy.scoped_select``): plain rows,
#: no objects to track, a third of an ORM statement's cost.
_INTERVIEWS = tenancy.scoped_select(
    select(*(Interview.__table__.c[name] for name in (
        "id", "held_on", "duration_minutes", "shared_note", "private_note",
        "social_worker_id", "created_at")))
    .where(Interview.__table__.c.case_id == bindparam("case_id"))
    .order_by(Interview.__table__.c.held_on, Interview.__table__.c.created_at))
_TRANSITIONS = tenancy.scoped_select(
    select(*(CaseTransition.__table__.c[name] for name in (
        "from_state", "to_state", "at", "actor_label", "reason_code", "reason_text")))
    .where(CaseTransition.__table__.c.case_id == bindparam("case_id"))
    .order_by(CaseTransition.__table__.c.at))
_BUDGET_LINES = tenancy.scoped_select(
    select(BudgetLine.__table__.c.category, BudgetLine.__table__.c.amount)
    .where(BudgetLine.__table__.c.case_id == bindparam("case_id")))


def get_case(session, case_id, role: str, page: bool = False) -> Case:
    """The case ``case_id`` if ``role`` may see it; ``NotFound`` (404) otherwise, also for
    a malformed id or another tenant's case. ``page``: with its referring organisation
    (the case page shows it)."""
    try:
        key = case_id if isinstance(case_id, uuid.UUID) else uuid.UUID(str(case_id))
    except ValueError as exc:
        raise NotFound("Ce dossier") from exc
    if role in CCAS_STAFF:
        found = tenancy.scoped_rows(session, _CASE_PAGE_ROW if page else _CASE_ROW,
                                    {"case_id": key})
        case = _adopted_case(session, found[0], page) if found else None
    else:
        stmt = visible_cases(role).where(Case.id == bindparam("case_id"))
        if page:
            stmt = stmt.options(_WITH_ORGANISATION)
        case = session.scalar(stmt, {"case_id": key})
    if case is None:
        raise NotFound("Ce dossier")
    return case


def reached(session, case: Case, state: State | str) -> bool:
    """Whether ``case`` has ever entered ``state``."""
    return bool(session.scalar(
        select(func.count()).select_from(CaseTransition).where(
            CaseTransition.case_id == case.id, CaseTransition.to_state == str(state))
    ))


def lender_sees_file(session, case: Case, role: str) -> bool:
    """The evaluation (shared notes, budget, file summary) is the CCAS's until the file is
    submitted to the lender; the lender's agents see it from then on."""
    if role in CCAS_STAFF:
        return True
    return role == "lender_agent" and reached(session, case, State.submitted_to_lender)


def get_file_case(session, case_id, role: str) -> Case:
    """The case ``case_id`` if ``role`` may read its file (the evaluation, the stored
    documents, the household, the synthesis): the CCAS team always, the lender's agents
    once it was submitted to them; ``NotFound`` (404) otherwise, as for a case one may not
    know exists."""
    case = get_case(session, case_id, role)
    if not lender_sees_file(session, case, role):
        raise NotFound("Ce dossier")
    return case


def may_read_private_notes(role: str) -> bool:
    return role in SOCIAL_WORKERS


# -- case list ---------------------------------------------------------------------------


@dataclass
class CaseFilters:
    state: str | None = None
    purpose: str | None = None
    worker: str | None = None  # a user id, or "none" for unassigned
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""


def parse_date(value, field: str) -> date | None:
    """A date from a form or JSON: ``2026-03-01`` or ``01/03/2026``; empty → ``None``."""
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise UserError("Date invalide (jj/mm/aaaa).", status=422, field=field)


def workflow_states() -> set[str]:
    """Every state a case of the current tenant may be in."""
    return set(workflow.current().states) | {s.value for s in State}


def filter_cases(session, stmt, filters: CaseFilters):
    """``stmt`` (a select of ``Case``) restricted by ``filters`` (refused with a clear
    error when a value is unknown)."""
    stmt = stmt.where(*_criteria(Case, _filter_values(filters)))
    # every word a substring of the last name, first name or reference (core.case_search)
    return case_search.filter_by_words(session, stmt, filters.q)


def _filter_values(filters: CaseFilters) -> dict:
    """The filters set in ``filters``, checked and typed (``worker``: a user id, or
    ``"none"`` for the unassigned cases)."""
    values: dict = {}
    if filters.state:
        # the core's states and the enabled plugins'
        if filters.state not in workflow_states():
            raise UserError(f"État inconnu : {filters.state!r}.", status=422, field="state")
        values["state"] = str(filters.state)
    if filters.purpose:
        try:
            values["purpose"] = Purpose(filters.purpose)
        except ValueError as exc:
            raise UserError(f"Objet inconnu : {filters.purpose!r}.", status=422,
                            field="purpose") from exc
    if filters.worker == "none":
        values["worker"] = "none"
    elif filters.worker:
        try:
            values["worker"] = uuid.UUID(filters.worker)
        except ValueError as exc:
            raise UserError("Travailleur social inconnu.", status=422, field="worker") from exc
    if filters.date_from:
        values["date_from"] = filters.date_from
    if filters.date_to:
        values["date_to"] = filters.date_to
    return values


def _criteria(cols, values: dict, bound: bool = False) -> list:
    """The ``WHERE`` terms of the filter ``values`` on ``cols`` (``Case`` or the table's
    columns): the values themselves, or (``bound``) parameters named by the filters."""
    def value(name):
        return bindparam(name) if bound else values[name]

    terms = []
    if "state" in values:
        terms.append(cols.state == value("state"))
    if "purpose" in values:
        terms.append(cols.purpose == value("purpose"))
    if values.get("worker") == "none":
        terms.append(cols.social_worker_id.is_(None))
    elif "worker" in values:
        terms.append(cols.social_worker_id == value("worker"))
    if "date_from" in values:
        terms.append(cols.intake_date >= value("date_from"))
    if "date_to" in values:
        terms.append(cols.intake_date <= value("date_to"))
    return terms


# The case list's sortable columns (``core.sorting``): key -> what it orders by. The
# default (newest intake first, then reference) is served by ``ix_cases_intake_date``
# (or ``ix_cases_state`` with a state filter); the reference by the unique
# ``(tenant_id, reference)``; the others sort the matching cases (cost measured by
# ``benchmarks/case_list_sort.py``).
def case_sort_spec() -> sorting.SortSpec:
    """The case list's sort columns for the current tenant's workflow: states in the
    order of the workflow, purposes in the alphabetical order of their French labels."""
    flow = workflow.current()
    state_rank = {code: rank for rank, code in enumerate(flow.states)}
    purpose_rank = {str(code): rank for rank, (code, _label) in enumerate(
        sorted(PURPOSE_LABELS.items(), key=lambda item: item[1]))}
    return sorting.SortSpec({
        "reference": sorting.SortColumn((Case.reference,)),
        "person": sorting.SortColumn((func.lower(Person.last_name),
                                      func.lower(Person.first_name), Case.reference)),
        "purpose": sorting.SortColumn((
            sa_case(purpose_rank, value=Case.purpose, else_=len(purpose_rank)),
            Case.intake_date, Case.reference)),
        "amount": sorting.SortColumn((Case.amount_requested, Case.reference)),
        "intake_date": sorting.SortColumn((Case.intake_date, Case.reference), first="desc"),
        "state": sorting.SortColumn((
            sa_case(state_rank, value=Case.state, else_=len(state_rank)),
            Case.intake_date, Case.reference)),
        "worker": sorting.SortColumn((func.lower(_WORKER.full_name), Case.reference),
                                     nulls_last=True),
    }, default="intake_date", default_dir="desc")


_WORKER = aliased(User, name="sort_worker")


def _sort_joins(stmt, sort: sorting.Sorting):
    """The joins ``sort`` needs."""
    if sort.key == "person":
        stmt = stmt.join(Person, Person.id == Case.person_id).options(
            contains_eager(Case.person))
    if sort.key == "worker":
        stmt = stmt.outerjoin(_WORKER, _WORKER.id == Case.social_worker_id)
    return stmt


def list_cases(session, role: str, filters: CaseFilters, page: int = 1,
               per_page: int = 25, count: bool = True,
               offset: int | None = None,
               sort: sorting.Sorting | None = None,
               count_cap: int | None = None) -> tuple[list[Case], int | None]:
    """One page of the cases ``role`` may see, newest intake first (or as ``sort`` says,
    :func:`case_sort_spec`), and the total (``None`` unless ``count``: counting reads
    every matching case of the tenant, which a page does not need; with ``count_cap``,
    at most that many plus one, see :func:`_total`). ``offset`` defaults to ``(page - 1)
    * per_page``."""
    stmt = filter_cases(session, visible_cases(role), filters)
    total = _total(session, stmt, count_cap) if count else None
    page = max(int(page or 1), 1)
    if sort is None or sort.is_default:
        ordered = stmt.order_by(Case.intake_date.desc(), Case.reference.desc())
    else:
        ordered = _sort_joins(stmt, sort).order_by(*sorting.order_by(sort))
    rows = session.scalars(
        ordered.limit(per_page).offset((page - 1) * per_page if offset is None else offset)
    ).unique().all()
    return list(rows), total


def _total(session, stmt, cap: int | None) -> int:
    """How many cases the filtered ``stmt`` matches. Without ``cap`` it reads every
    matching case of the tenant (asked for, never by default); with it, at most ``cap +
    1`` of them: a result above ``cap`` means "more than ``cap``", at a cost that stops
    growing with the tenant. Counted from the page's own statement: its filters (a name
    search's token count among them) are built once."""
    ids = stmt.with_only_columns(Case.id)
    if cap is not None:
        return paging.count_at_most(session, ids, cap)
    return int(session.scalar(
        select(func.count()).select_from(ids.order_by(None).subquery())) or 0)


def list_case_rows(session, role: str, filters: CaseFilters, per_page: int,
                   offset: int, count: bool = False
                   ) -> tuple[list[items.ListedCase], int | None]:
    """:func:`list_cases`'s page in its default order (newest intake first, then the
    reference), read as columns of the case and its person, and the total when
    ``count``: for the API's list, where building mapped objects cost more than the
    query. The CCAS team's page without a name search or a count (the common read) is one
    Core read under the tenant wall, built once per shape of filters; the others one
    ORM-enabled statement (the tenant's criteria apply to every table, as to every
    statement)."""
    if role in CCAS_STAFF and not count and not (filters.q or "").strip():
        values = _filter_values(filters)
        unassigned = values.get("worker") == "none"
        if unassigned:
            del values["worker"]  # written in the statement, not a parameter
        rows = tenancy.scoped_rows(session, _listed_page(tuple(sorted(values)), unassigned),
                                   {**values, "limit": per_page, "offset": offset})
        return [items.listed_case(row) for row in rows], None
    if role in CCAS_STAFF and not count:
        # a name search of the CCAS team: the statement built once per shape of filters
        # and plan, the words as parameters (the same SQL as filter_cases writes)
        values = _filter_values(filters)
        plan = case_search.search_plan(session, filters.q)
        if plan is None:  # a word nobody has: no case (and no read of them)
            return [], None
        driver, probes = plan
        unassigned = values.get("worker") == "none"
        if unassigned:
            del values["worker"]  # written in the statement, not a parameter
        stmt = _searched_page(tuple(sorted(values)), unassigned, driver is not None,
                              len(probes))
        rows = session.execute(stmt, {
            **values, **case_search.bound_values(driver, probes), "limit": per_page,
            "offset": offset}).all()
        return [items.listed_case(row) for row in rows], None
    stmt = filter_cases(session, visible_cases(role, items.LISTED_CASE), filters)
    total = _total(session, stmt, None) if count else None
    rows = session.execute(
        stmt.order_by(Case.intake_date.desc(), Case.reference.desc())
        .limit(per_page).offset(offset)).all()
    return [items.listed_case(row) for row in rows], total


@functools.lru_cache(maxsize=64)
def _listed_page(names: tuple[str, ...], unassigned: bool):
    """The CCAS team's page of listed cases filtered by ``names`` (bound at each read)
    and, when ``unassigned``, on the cases without a social worker, newest intake first:
    a Core read built once per shape."""
    values = dict.fromkeys(names)
    if unassigned:
        values["worker"] = "none"
    table = Case.__table__.c
    return tenancy.scoped_select(
        items.LISTED_CASE_CORE.where(*_criteria(table, values, bound=True))
        .order_by(table.intake_date.desc(), table.reference.desc())
        .limit(bindparam("limit")).offset(bindparam("offset")))


@functools.lru_cache(maxsize=64)
def _searched_page(names: tuple[str, ...], unassigned: bool, driven: bool, probes: int):
    """The CCAS team's page of listed cases filtered by ``names`` (and, when
    ``unassigned``, on the cases without a social worker) and searched by a plan of that
    shape (``core.case_search.bound_criteria``), newest intake first: an ORM-enabled
    select (the tenant's criteria on every table at execution, as for any statement),
    built once per shape, so its tenant's twin and its cache key are kept too."""
    values = dict.fromkeys(names)
    if unassigned:
        values["worker"] = "none"
    return (items.LISTED_CASE.where(*_criteria(Case, values, bound=True),
                                    *case_search.bound_criteria(driven, probes))
            .order_by(Case.intake_date.desc(), Case.reference.desc())
            .limit(bindparam("limit")).offset(bindparam("offset")))


# -- work on a case ----------------------------------------------------------------------


def _check_version(case: Case, version) -> None:
    try:
        version = int(version)
    except (TypeError, ValueError) as exc:
        raise UserError("Version du dossier manquante.", status=400, field="version") from exc
    if version != case.version:
        raise StaleCase()


def assign_worker(session, case: Case, worker_id, version, actor) -> Case:
    """Assign the social worker following ``case`` (``worker_id`` empty: unassign)."""
    if str(getattr(actor, "role", "")) not in CCAS_STAFF:
        raise UserError("Votre rôle ne permet pas cette action.", status=403)
    _check_version(case, version)
    worker = None
    if worker_id:
        try:
            key = uuid.UUID(str(worker_id))
        except ValueError as exc:
            raise UserError("Travailleur social inconnu.", status=422, field="worker") from exc
        worker = session.scalar(select(User).where(User.id == key))
        if worker is None or not worker.active or str(worker.role) not in SOCIAL_WORKERS:
            raise UserError("Travailleur social inconnu.", status=422, field="worker")
    case.social_worker_id = worker.id if worker else None
    audit.record(session, "case.assign", case, actor=actor,
                 worker=worker.email if worker else None)
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleCase() from exc
    return case


#: The workers of a case page's forms, read under the tenant wall by Core and adopted as
#: loaded users (``core.adopted_rows``): the ORM's load of a dozen users cost more than
#: the rest of the page's reads.
_USERS = User.__table__
_SOCIAL_WORKERS = tenancy.scoped_select(
    select(*adopted_rows.columns(User, "user_"))
    .where(_USERS.c.active.is_(True), _USERS.c.role.in_(sorted(SOCIAL_WORKERS)))
    .order_by(_USERS.c.full_name, _USERS.c.email))
_USERS_BY_ID = select(User).where(User.id.in_(bindparam("ids", expanding=True)))


def social_workers(session) -> list:
    """The active social workers and managers, by name (statement built once)."""
    return [adopted_rows.adopted(session, User, "user_", row)
            for row in tenancy.scoped_rows(session, _SOCIAL_WORKERS)]


INTERVIEW_STATES = frozenset(
    {State.documents_requested, State.evaluation, State.instruction, State.adjourned}
)


def add_interview(session, case: Case, actor, held_on, duration_minutes=None,
                  shared_note: str = "", private_note: str = ""):
    """Record an evaluation interview (social workers and the manager)."""
    role = str(getattr(actor, "role", ""))
    if role not in SOCIAL_WORKERS:
        raise UserError("Seuls les travailleurs sociaux et la responsable saisissent les "
                        "entretiens.", status=403)
    if case.state not in INTERVIEW_STATES:
        raise UserError("Les entretiens se saisissent entre la demande de pièces et "
                        "l'instruction.", status=422)
    errors: dict[str, list[str]] = {}
    try:
        day = parse_date(held_on, "held_on")
    except UserError as exc:
        errors["held_on"] = [exc.message]
        day = None
    if day is None and "held_on" not in errors:
        errors["held_on"] = ["Indiquez la date de l'entretien."]
    if day is not None and day > local_today(_tenant()):
        errors["held_on"] = ["La date de l'entretien ne peut pas être dans le futur."]
    minutes = None
    if duration_minutes not in (None, ""):
        try:
            minutes = int(duration_minutes)
            if not 1 <= minutes <= 600:
                raise ValueError
        except (TypeError, ValueError):
            errors["duration_minutes"] = ["Durée en minutes, entre 1 et 600."]
    for name, text in (("shared_note", shared_note), ("private_note", private_note)):
        if len(text or "") > 20000:
            errors[name] = ["20 000 caractères au plus."]
    if not (shared_note or "").strip() and not (private_note or "").strip():
        errors["shared_note"] = ["Saisissez au moins une note."]
    if errors:
        first = next(iter(errors))
        raise UserError(errors[first][0], status=422, field=first, errors=errors)
    interview = Interview(
        case_id=case.id, held_on=day, duration_minutes=minutes,
        social_worker_id=getattr(actor, "id", None),
        shared_note=(shared_note or "").strip(), private_note=(private_note or "").strip(),
    )
    session.add(interview)
    case.person.last_contact_at = clock.now()
    session.flush()
    audit.record(session, "case.interview", case, actor=actor, interview=str(interview.id))
    return interview


def interviews(session, case: Case) -> list:
    """The case's interviews, oldest first: rows with ``id``, ``held_on``,
    ``duration_minutes``, ``shared_note``, ``private_note``, ``social_worker_id`` and
    ``created_at`` (the author's name: :func:`worker_names`)."""
    return tenancy.scoped_rows(session, _INTERVIEWS, {"case_id": case.id})


def transitions(session, case: Case) -> list:
    """The case's history, oldest first: rows with ``from_state``, ``to_state``, ``at``,
    ``actor_label``, ``reason_code`` and ``reason_text``."""
    return tenancy.scoped_rows(session, _TRANSITIONS, {"case_id": case.id})


def users_by_id(session, ids, known=()) -> dict:
    """``{user id: user}`` of the users ``ids`` (``None`` skipped): those among ``known``
    (users the page has read already) from them, the others in one query."""
    wanted = {i for i in ids if i is not None}
    users = {u.id: u for u in known if u.id in wanted}
    missing = wanted - users.keys()
    if missing:
        users.update((u.id, u) for u in session.scalars(_USERS_BY_ID,
                                                        {"ids": sorted(missing)}))
    return users


def worker_names(session, ids, known=()) -> dict:
    """``{user id: full name or e-mail}`` of the users ``ids`` (the authors of
    interviews): those among ``known`` (users the page has read already) from them, the
    others in one query."""
    return {i: u.full_name or u.email for i, u in users_by_id(session, ids, known).items()}


BUDGET_STATES = INTERVIEW_STATES


def budget_lines(session, case: Case) -> dict[str, Decimal]:
    return dict(tenancy.scoped_rows(session, _BUDGET_LINES, {"case_id": case.id}))


def save_budget(session, case: Case, actor, amounts: dict) -> dict[str, Decimal]:
    """Replace the budget sheet with ``amounts`` (``{category: amount}``; empty or 0
    removes the line). Every amount is checked before anything is written."""
    if str(getattr(actor, "role", "")) not in SOCIAL_WORKERS:
        raise UserError("Seuls les travailleurs sociaux et la responsable saisissent le "
                        "budget.", status=403)
    if case.state not in BUDGET_STATES:
        raise UserError("Le budget se saisit entre la demande de pièces et l'instruction.",
                        status=422)
    known = {**{c: BudgetKind.resource for c in RESOURCE_CATEGORIES},
             **{c: BudgetKind.charge for c in CHARGE_CATEGORIES}}
    unknown = sorted(set(amounts) - set(known))
    if unknown:
        raise UserError(f"Catégorie inconnue : {unknown[0]!r}.", status=422, field=unknown[0])
    parsed: dict[str, Decimal] = {}
    errors: dict[str, list[str]] = {}
    for category, raw in amounts.items():
        if raw in (None, ""):
            parsed[category] = Decimal(0)
            continue
        text = str(raw).strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
        text = text.replace("€", "").replace(",", ".")
        try:
            value = Decimal(text)
        except InvalidOperation:
            errors[category] = ["Montant invalide."]
            continue
        if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
            errors[category] = ["Montant positif ou nul attendu."]
        elif value != value.quantize(Decimal("0.01")):
            errors[category] = ["Deux décimales au plus."]
        else:
            parsed[category] = value.quantize(Decimal("0.01"))
    if errors:
        first = next(iter(errors))
        raise UserError(errors[first][0], status=422, field=first, errors=errors)
    existing = {line.category: line for line in session.scalars(
        select(BudgetLine).where(BudgetLine.case_id == case.id))}
    now = clock.now()
    for category, value in parsed.items():
        line = existing.get(category)
        if value == 0:
            if line is not None:
                session.delete(line)
        elif line is None:
            session.add(BudgetLine(case_id=case.id, kind=known[category], category=category,
                                   amount=value, updated_at=now))
        elif line.amount != value:
            line.amount = value
            line.updated_at = now
    session.flush()
    audit.record(session, "case.budget", case, actor=actor)
    return budget_lines(session, case)


def budget_figures(session, case: Case, tenant=None, lines: dict | None = None):
    """``core.cases.budget.BudgetFigures`` of the case's sheet (``None`` when it is empty);
    ``lines``: the sheet when the caller has read it already (``budget_lines``)."""
    if lines is None:
        lines = budget_lines(session, case)
    if not lines:
        return None
    tenant = tenant if tenant is not None else _tenant()
    person = case.person
    return budget.compute(
        [v for c, v in lines.items() if c in RESOURCE_CATEGORIES],
        [v for c, v in lines.items() if c not in RESOURCE_CATEGORIES],
        person.adults or 1, [int(a) for a in (person.children_ages or [])],
        budget.min_remaining_setting(tenant.settings if tenant is not None else None),
    )


def _tenant():
    return g.get("tenant") if has_app_context() else None
