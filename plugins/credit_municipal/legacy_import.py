"""Legacy loans imported from a city's spreadsheet: ``ccas import loans``.

Beside the legacy cases (``ccas import cases``), with the same rules: French headers (and
their aliases), CSV with ``;`` ``,`` or tab in UTF-8 or Windows-1252, or XLSX; every error
names its line and column; nothing is written if any line is wrong; ``--dry-run`` checks
everything and writes nothing; importing the same file again creates nothing new.

One line per loan (columns in :data:`COLUMNS`): the case it belongs to (already imported),
its terms and disbursement, what the borrower has repaid so far and, for a loan in default,
the day of the default. Each loan gets its schedule (``build_schedule``), its repayments to
date as one legacy repayment allocated by the ledger's rules (arrears follow), and, in
default, its guarantee calls computed layer by layer in file order (the City's cap used as
it goes). So a city starts with its portfolio, its arrears and its guarantee position.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import click
from sqlalchemy import func, select, update

from core.plugin_api import (
    Case,
    CaseTransition,
    ImportRowError,
    ImportValueProblem,
    LoanInputError,
    State,
    UserError,
    build_schedule,
    db_session,
    insert_rows,
    local_today,
    normalise_header,
    read_amount_cell,
    read_date_cell,
    read_months_cell,
    read_spreadsheet,
    read_text_cell,
    record_audit,
    tenant_command,
    utcnow,
)

from . import guarantees
from . import loans as loan_service
from .models import GuaranteeCall, Installment, Loan, LoanStatus, Repayment, RepaymentSource
from .repayments import Ledger, PaymentError, Row

COLUMNS: dict[str, tuple[str, ...]] = {
    "reference_dossier": ("référence dossier", "référence du dossier", "dossier",
                          "n° dossier", "numéro de dossier"),
    "reference_pret": ("référence prêt", "référence du prêt", "n° prêt", "numéro de prêt",
                       "prêt"),
    "montant": ("montant prêté", "montant accordé", "montant du prêt", "capital"),
    "duree_mois": ("durée", "durée (mois)", "durée en mois", "nombre de mois",
                   "durée du prêt"),
    "taux": ("taux", "taux annuel", "taux (%)", "taux annuel (%)"),
    "date_decaissement": ("date de décaissement", "décaissement", "date du décaissement",
                          "date de versement"),
    "premiere_echeance": ("première échéance", "date de première échéance",
                          "date de la première échéance"),
    "montant_rembourse": ("remboursé", "total remboursé", "montant remboursé",
                          "remboursements"),
    "date_dernier_remboursement": ("dernier remboursement", "date du dernier remboursement",
                                   "date dernier paiement"),
    "date_defaillance": ("défaillance", "date de défaillance", "date de la défaillance"),
}
REQUIRED = ("reference_dossier", "montant", "duree_mois", "date_decaissement")
LABELS = {
    "reference_dossier": "référence dossier", "montant": "montant prêté",
    "duree_mois": "durée (mois)", "date_decaissement": "date de décaissement",
}
_ALIASES = {normalise_header(alias): name for name, aliases in COLUMNS.items()
            for alias in (name, *aliases)}
BATCH = 1000


@dataclass
class LegacyLoan:
    line: int
    case_reference: str
    reference: str
    amount: Decimal
    months: int
    rate: Decimal
    disbursed_on: date
    first_due: date | None
    repaid: Decimal
    last_paid_on: date | None
    default_on: date | None
    case_id: uuid.UUID | None = None
    already: bool = False


@dataclass
class LoanImportResult:
    filename: str
    total: int = 0
    loans: list[LegacyLoan] = field(default_factory=list)
    errors: list[ImportRowError] = field(default_factory=list)
    created: int = 0
    written: bool = False

    @property
    def already(self) -> int:
        return sum(1 for loan in self.loans if loan.already)

    def summary(self) -> str:
        verb = "créés" if self.written else "seraient créés"
        return (f"{self.total} lignes lues, {len(self.loans)} valides, "
                f"{len({e.line for e in self.errors})} en erreur ; "
                f"{len(self.loans) - self.already} prêts {verb}, {self.already} déjà importés.")


def match_columns(headers: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = _ALIASES.get(normalise_header(header))
        if name is not None and name not in found:
            found[name] = index
    return found


def parse_rows(data: bytes, filename: str, today: date, default_rate: Decimal,
               max_months: int) -> LoanImportResult:
    """Read and check every line (PURE: no database)."""
    table = read_spreadsheet(data, filename)
    index = match_columns(table.headers)
    missing = [LABELS[name] for name in REQUIRED if name not in index]
    if missing:
        raise UserError("Colonnes obligatoires absentes : " + ", ".join(missing)
                        + f" (en-têtes lus : {', '.join(h for h in table.headers if h)}).",
                        status=422, field="file")
    result = LoanImportResult(filename, total=len(table.rows))
    seen: dict[str, int] = {}
    for line, cells in table.rows:
        loan, errors = _parse_row(line, cells, index, today, default_rate, max_months)
        if loan is not None:
            for key, column in ((loan.case_reference.upper(), "reference_dossier"),
                                (f"#{loan.reference.upper()}", "reference_pret")):
                if key in seen:
                    errors.append(ImportRowError(line, column,
                                                 f"déjà vue ligne {seen[key]}"))
                    loan = None
                    break
                seen[key] = line
        if loan is not None:
            result.loans.append(loan)
        result.errors.extend(errors)
    return result


def _parse_row(line, cells, index, today, default_rate, max_months):
    errors: list[ImportRowError] = []
    values: dict = {}

    def read(name, parser, *args):
        i = index.get(name)
        raw = cells[i] if i is not None and i < len(cells) else None
        try:
            values[name] = parser(raw, *args)
        except ImportValueProblem as problem:
            values[name] = None
            errors.append(ImportRowError(line, name, str(problem)))

    read("reference_dossier", read_text_cell, 40)
    read("reference_pret", read_text_cell, 40)
    read("montant", read_amount_cell)
    read("duree_mois", read_months_cell)
    read("taux", _rate)
    for name in ("date_decaissement", "premiere_echeance", "date_dernier_remboursement",
                 "date_defaillance"):
        read(name, read_date_cell)
    read("montant_rembourse", read_amount_cell)
    bad = {e.column for e in errors}
    for name in REQUIRED:
        if values.get(name) in (None, "") and name not in bad:
            errors.append(ImportRowError(line, name, f"{LABELS[name]} manquant(e)"))
            bad.add(name)
    months, disbursed = values.get("duree_mois"), values.get("date_decaissement")
    if months and months > max_months:
        errors.append(ImportRowError(line, "duree_mois",
                                     f"durée de {months} mois au-delà du maximum du prêteur "
                                     f"({max_months} mois)"))
    for name in ("date_decaissement", "premiere_echeance", "date_dernier_remboursement",
                 "date_defaillance"):
        day = values.get(name)
        if day is None or name in bad:
            continue
        if name != "premiere_echeance" and day > today:
            errors.append(ImportRowError(line, name, f"date dans le futur ({day:%d/%m/%Y})"))
        elif disbursed and name != "date_decaissement" and day <= disbursed and (
                name == "premiere_echeance" or day < disbursed):
            errors.append(ImportRowError(line, name,
                                         f"date antérieure au décaissement ({day:%d/%m/%Y})"))
    repaid = values.get("montant_rembourse") or Decimal("0.00")
    if repaid and values.get("date_dernier_remboursement") is None and (
            "date_dernier_remboursement" not in bad):
        errors.append(ImportRowError(line, "date_dernier_remboursement",
                                     "date du dernier remboursement manquante"))
    if errors:
        return None, errors
    return LegacyLoan(
        line, values["reference_dossier"], values.get("reference_pret") or
        values["reference_dossier"], values["montant"], months,
        values.get("taux") if values.get("taux") is not None else default_rate, disbursed,
        values.get("premiere_echeance"), repaid, values.get("date_dernier_remboursement"),
        values.get("date_defaillance")), []


def _rate(value) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).replace("%", "").replace(",", ".").strip()
    try:
        rate = Decimal(text)
    except ArithmeticError as exc:
        raise ImportValueProblem(f"taux illisible « {value} »") from exc
    if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(30):
        raise ImportValueProblem(f"taux en % entre 0 et 30 attendu (« {value} »)")
    return rate


def check_against_database(session, result: LoanImportResult) -> None:
    """Cases known, no other loan on them, loan references free; loans imported before are
    marked ``already``."""
    refs = sorted({loan.case_reference for loan in result.loans})
    cases: dict[str, tuple] = {}
    for start in range(0, len(refs), 1000):
        for case_id, reference, state in session.execute(
                select(Case.id, Case.reference, Case.state)
                .where(Case.reference.in_(refs[start:start + 1000]))):
            cases[reference.upper()] = (case_id, state)
    existing: dict = {}
    case_ids = [c[0] for c in cases.values()]
    for start in range(0, len(case_ids), 1000):
        for loan in session.execute(
                select(Loan.case_id, Loan.reference, Loan.origin, Loan.amount,
                       Loan.disbursed_on)
                .where(Loan.case_id.in_(case_ids[start:start + 1000]))):
            existing[loan.case_id] = loan
    loan_refs = sorted({loan.reference.upper() for loan in result.loans})
    taken = set()
    for start in range(0, len(loan_refs), 1000):
        taken.update(r.upper() for r in session.scalars(
            select(Loan.reference).where(func.upper(Loan.reference).in_(
                loan_refs[start:start + 1000]))))
    keep = []
    for loan in result.loans:
        found = cases.get(loan.case_reference.upper())
        if found is None:
            result.errors.append(ImportRowError(
                loan.line, "reference_dossier",
                f"dossier inconnu « {loan.case_reference} » (importez d'abord les dossiers)"))
            continue
        loan.case_id = found[0]
        other = existing.get(loan.case_id)
        if other is not None:
            if (other.origin == "import" and other.reference.upper() == loan.reference.upper()
                    and other.amount == loan.amount and other.disbursed_on == loan.disbursed_on):
                loan.already = True
                keep.append(loan)
            else:
                result.errors.append(ImportRowError(
                    loan.line, "reference_dossier",
                    f"le dossier « {loan.case_reference} » a déjà un autre prêt"))
            continue
        if loan.reference.upper() in taken:
            result.errors.append(ImportRowError(
                loan.line, "reference_pret",
                f"référence de prêt « {loan.reference} » déjà utilisée"))
            continue
        keep.append(loan)
    result.loans = keep
    result.errors.sort(key=lambda e: (e.line, e.column))


@dataclass
class _Built:
    loan: dict
    installments: list[dict]
    repayment: dict | None
    status: LoanStatus
    outstanding: Decimal


def build_loan(legacy: LegacyLoan, conf: dict,
               now: datetime) -> tuple[_Built | None, ImportRowError | None]:
    """A legacy loan's rows (PURE): schedule, repayments to date allocated by the
    ledger's rules, status."""
    try:
        schedule = build_schedule(
            legacy.amount, legacy.months, legacy.rate, start_date=legacy.disbursed_on,
            method=conf["schedule_method"], first_due_date=legacy.first_due,
            subsidy_share=conf["interest_paid_by_city"])
    except LoanInputError as exc:
        column = {"months": "duree_mois", "annual_rate": "taux",
                  "first_due_date": "premiere_echeance"}.get(exc.field, "montant")
        return None, ImportRowError(legacy.line, column,
                                    loan_service.terms_message(exc.field, legacy.amount,
                                                               legacy.months))
    loan_id = uuid.uuid4()
    repayment = None
    settled = False
    rows, outstanding = schedule.installments, legacy.amount
    if legacy.repaid:  # the ledger allocates what was repaid (nothing to do otherwise)
        ledger = Ledger(legacy.amount, legacy.rate, conf["schedule_method"],
                        conf["interest_paid_by_city"], schedule.due_day,
                        [Row(r.number, r.due_date, r.payment, r.principal, r.interest,
                             r.subsidy, r.borrower_payment, r.balance) for r in rows],
                        start=legacy.disbursed_on)
        try:
            allocation = ledger.apply(legacy.last_paid_on, legacy.repaid)
        except PaymentError as exc:
            return None, ImportRowError(legacy.line, "montant_rembourse", exc.message)
        settled = allocation.settles
        rows, outstanding = ledger.rows, ledger.outstanding
        repayment = {
            "id": uuid.uuid4(), "loan_id": loan_id, "paid_on": legacy.last_paid_on,
            "amount": legacy.repaid, "source": RepaymentSource.import_, "batch_id": None,
            "external_key": f"legacy:{legacy.reference.upper()}"[:64],
            "interest_part": allocation.interest_part,
            "principal_part": allocation.principal_part, "early": allocation.early,
            "recorded_by_id": None, "created_at": now,
        }
    status = (LoanStatus.defaulted if legacy.default_on and not settled
              else LoanStatus.repaid if settled else LoanStatus.repaying)
    closed_on = (legacy.default_on if status == LoanStatus.defaulted
                 else legacy.last_paid_on if settled else None)
    loan = {
        "id": loan_id, "case_id": legacy.case_id, "reference": legacy.reference,
        "amount": legacy.amount, "months": legacy.months, "annual_rate": legacy.rate,
        "method": conf["schedule_method"], "subsidy_share": conf["interest_paid_by_city"],
        "first_due_date": legacy.first_due, "status": status,
        "decided_on": legacy.disbursed_on, "decided_by_id": None,
        "offer_valid_until": legacy.disbursed_on + timedelta(days=15), "signed_on": None,
        "borrower_signed_on": None, "lender_signed_on": None, "ccas_signed_on": None,
        "lender_signatory": "", "ccas_signatory": "", "signature_recorded_at": None,
        "withdrawal_ends_on": None, "withdrawn_on": None,
        "disbursed_on": legacy.disbursed_on, "due_day": schedule.due_day,
        "late_since": None, "late_alerted_at": None,
        "default_declared_on": legacy.default_on if status == LoanStatus.defaulted else None,
        "default_outstanding": outstanding if status == LoanStatus.defaulted else None,
        "closed_on": closed_on, "default_proposed_on": None, "written_off_on": None,
        "origin": "import", "created_at": now,
    }
    installments = [{
        "id": uuid.uuid4(), "loan_id": loan_id, "number": r.number, "due_date": r.due_date,
        "payment": r.payment, "principal": r.principal, "interest": r.interest,
        "subsidy": r.subsidy, "borrower_payment": r.borrower_payment, "balance": r.balance,
    } for r in rows]
    return _Built(loan, installments, repayment, status, outstanding), None


def _noon(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(12), ZoneInfo(timezone)).astimezone(UTC)


def run_import(session, tenant, data: bytes, filename: str = "", *, dry_run: bool = False,
               actor=None, progress=None) -> LoanImportResult:
    """Check the whole file, then (unless ``dry_run`` or any error) write its new loans.
    Nothing is committed."""
    conf = loan_service.settings()
    today = local_today(tenant)
    result = parse_rows(data, filename, today, conf["annual_rate"], conf["max_months"])
    check_against_database(session, result)
    now = utcnow()
    built: list[tuple[LegacyLoan, _Built]] = []
    for legacy in result.loans:
        if legacy.already:
            continue
        item, error = build_loan(legacy, conf, now)
        if error is not None:
            result.errors.append(error)
        else:
            built.append((legacy, item))
    result.errors.sort(key=lambda e: (e.line, e.column))
    if dry_run or result.errors:
        return result
    layers = guarantees.layers_from_settings(conf)
    lent = guarantees.amount_lent(session) + sum((b.loan["amount"] for _l, b in built),
                                                 Decimal(0))
    called = guarantees.called_by_guarantor(session)
    timezone = tenant.timezone or "Europe/Paris"
    label = f"import:{filename}"[:300]
    for start in range(0, len(built), BATCH):
        chunk = built[start:start + BATCH]
        loans, installments, repayments, calls, moves, states = [], [], [], [], [], {}
        for legacy, item in chunk:
            loans.append(item.loan)
            installments.extend(item.installments)
            if item.repayment:
                repayments.append(item.repayment)
            if item.status == LoanStatus.defaulted:
                for call in guarantees.compute_calls(item.outstanding, layers, lent, called):
                    if call.guarantor == guarantees.LENDER or call.amount <= 0:
                        continue
                    called[call.guarantor] = called.get(call.guarantor, Decimal(0)) + call.amount
                    calls.append({"id": uuid.uuid4(), "loan_id": item.loan["id"],
                                  "guarantor": call.guarantor, "label": call.label,
                                  "amount": call.amount, "basis": item.outstanding,
                                  "called_on": legacy.default_on, "created_at": now})
            target = State.repaying if item.status == LoanStatus.repaying else State.closed
            states[legacy.case_id] = target
            moves.append({
                "id": uuid.uuid4(), "case_id": legacy.case_id, "from_state": None,
                "to_state": str(target),
                "at": _noon(item.loan["closed_on"] or legacy.disbursed_on, timezone),
                "actor_id": None, "actor_label": label,
                "reason_code": None if target == State.repaying else (
                    "default" if item.status == LoanStatus.defaulted else "repaid"),
                "reason_text": "", "data": {"legacy_loan": legacy.reference},
            })
        insert_rows(session, Loan, loans)
        insert_rows(session, Installment, installments)
        insert_rows(session, Repayment, repayments)
        insert_rows(session, GuaranteeCall, calls)
        _move_cases(session, states, moves)
        insert_rows(session, CaseTransition, moves)
        result.created += len(chunk)
        if progress is not None:
            progress(len(chunk), len(built))
    result.written = True
    record_audit(session, "import.loans", None, actor=actor, file=filename,
                 created=result.created, already_imported=result.already)
    return result


def _move_cases(session, states: dict, moves: list[dict]) -> None:
    """The cases of the imported loans move to where their loan is (repaying, or closed),
    each with one transition recording the import; ``from_state`` is the case's state."""
    ids = list(states)
    current = dict(session.execute(select(Case.id, Case.state).where(Case.id.in_(ids))).all())
    for move in moves:
        move["from_state"] = str(current.get(move["case_id"])) if current.get(
            move["case_id"]) else None
    for target in {str(s) for s in states.values()}:
        chosen = [case_id for case_id, s in states.items() if str(s) == target]
        session.execute(update(Case).where(Case.id.in_(chosen))
                        .values(state=target, state_changed_at=utcnow())
                        .execution_options(synchronize_session=False))


@click.group("import")
def import_group():
    """Reprise de l'historique."""


@import_group.command("loans")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Tout vérifier, sans rien écrire.")
@tenant_command("credit_municipal")
def import_loans(file, dry_run, tenant):
    """Importer les prêts de l'historique (une ligne par prêt, CSV ou XLSX, en-têtes en
    français) sur les dossiers déjà importés. Rien n'est écrit si une ligne est fausse ;
    réimporter le même fichier ne crée rien de nouveau."""
    from pathlib import Path

    path = Path(file)
    session = db_session()
    try:
        result = run_import(session, tenant, path.read_bytes(), path.name, dry_run=dry_run)
    except UserError as exc:
        session.rollback()
        raise click.ClickException(exc.message) from exc
    if result.written:
        session.commit()
    else:
        session.rollback()
    for error in result.errors[:50]:
        click.echo(str(error), err=True)
    if len(result.errors) > 50:
        click.echo(f"… et {len(result.errors) - 50} autres erreurs.", err=True)
    click.echo(result.summary())
    if dry_run:
        click.echo("Simulation : rien n'a été enregistré.")
    elif result.errors:
        raise click.ClickException("Des lignes sont invalides : rien n'a été enregistré.")
