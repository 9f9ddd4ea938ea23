"""Repayments: manual entry, CSV import from the lender, allocation, early repayment.

The ledger rules (pure, :class:`Ledger`):

* the live schedule is the loan's instalment rows; a repayment is compared with what the
  borrower owes on its date: every instalment due by then, plus the current period's
  instalment (the first one not yet covered), so an instalment paid a few days early is a
  regular payment, not an early repayment;
* allocation: the borrower's share of the interest owed first, then principal;
* what exceeds the instalments owed is an early repayment of principal (``early``): the
  instalments not yet due are recomputed on the reduced balance with
  ``remaining_schedule`` over the same remaining months (the instalment goes down, the end
  date stays), or, at the borrower's choice (``shorten``), over the fewest months that
  keep the instalment at most what it was (the loan ends sooner);
* settlement convention (``docs/loan-life.md``): a repayment equal to the outstanding
  principal plus the borrower's interest of the instalments due plus the interest accrued
  since the last due date, pro rata of the days (no penalty), settles the loan; the
  instalment in progress is replaced by that accrued interest, so the City's subsidy
  falls with it (the case is closed ``repaid``, or ``early_repayment`` when instalments
  were still to come); a repayment above that amount is refused with the amount that
  settles the loan.

Invariant: the rows' principal plus the early parts equals the amount lent, and the
regular payments (``amount - early``) are what is compared with the rows' borrower
payments for arrears.

CSV import: columns loan reference, date, amount (French or English headers, ``;`` or
``,``). :func:`preview_import` reports each line (new, already imported, or its error)
without writing; :func:`run_import` writes only when no line has an error. Each line has
a stable key (reference, date, amount, occurrence in the file), so re-importing the same
file, or a later file that repeats earlier lines, creates nothing new.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import bindparam, delete, func, select

from core.plugin_api import (
    State,
    UserError,
    format_money,
    months_for_installment,
    parse_amount,
    plural,
    read_rows,
    record_audit,
    remaining_schedule,
    rows_statement,
    utcnow,
)

from . import loans as loan_service
from .models import ImportBatch, Installment, Loan, LoanStatus, Repayment, RepaymentSource

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MAX_IMPORT_BYTES = 2_000_000
MAX_IMPORT_LINES = 20_000


# -- the pure ledger -----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    number: int
    due_date: date
    payment: Decimal
    principal: Decimal
    interest: Decimal
    subsidy: Decimal
    borrower_payment: Decimal
    balance: Decimal

    @property
    def borrower_interest(self) -> Decimal:
        return self.interest - self.subsidy


@dataclass(frozen=True)
class Allocation:
    amount: Decimal
    interest_part: Decimal
    principal_part: Decimal
    early: Decimal
    settles: bool
    #: Rows from this number on were replaced (early repayment) or removed (settled).
    replaced_from: int | None = None
    new_rows: tuple[Row, ...] = ()


class PaymentError(UserError):
    def __init__(self, message: str):
        super().__init__(message, status=422, field="amount")


@dataclass
class Ledger:
    """A loan's schedule and what was paid; :meth:`apply` allocates one more payment."""

    amount: Decimal
    annual_rate: Decimal
    method: str
    subsidy_share: Decimal
    due_day: int | None
    rows: list[Row]
    regular_paid: Decimal = ZERO
    interest_paid: Decimal = ZERO
    principal_paid: Decimal = ZERO
    last_paid_on: date | None = None
    start: date | None = None  # disbursement date

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.principal_paid

    def billable(self, on: date) -> list[Row]:
        """Instalments due by ``on`` plus the first later one not covered yet."""
        out, cumulative = [], ZERO
        for row in self.rows:
            if row.due_date > on and cumulative > self.regular_paid:
                break  # an earlier instalment is still open: it is the one owed
            out.append(row)
            cumulative += row.borrower_payment
            if row.due_date > on and cumulative > self.regular_paid:
                break
        return out

    def settled_rows(self, on: date) -> tuple[list[Row], Row | None]:
        """What stays of the schedule if the loan is settled on ``on`` (settlement
        convention, ``docs/loan-life.md``): the instalments due by then or already covered,
        and the current period's interest accrued to ``on`` (``None`` when nothing has
        accrued). The accrued row keeps the number of the instalment it cuts short, is
        dated ``on``, repays no principal; its interest and the City's part of it are the
        instalment's, pro rata of the days elapsed in the period (half-up to the cent)."""
        kept, cumulative = [], ZERO
        for row in self.rows:
            if row.due_date > on and cumulative + row.borrower_payment > self.regular_paid:
                break
            kept.append(row)
            cumulative += row.borrower_payment
        if len(kept) == len(self.rows):
            return kept, None
        current = self.rows[len(kept)]
        period_start = kept[-1].due_date if kept else self.start
        if period_start is None or on <= period_start:
            return kept, None
        elapsed = (on - period_start).days
        length = (current.due_date - period_start).days

        def pro_rata(value: Decimal) -> Decimal:
            return (value * elapsed / length).quantize(CENT, rounding=ROUND_HALF_UP)

        interest, subsidy = pro_rata(current.interest), pro_rata(current.subsidy)
        if interest == 0:
            return kept, None
        return kept, Row(current.number, on, interest, ZERO, interest, subsidy,
                         interest - subsidy, ZERO)

    def payoff(self, on: date) -> Decimal:
        """What settles the loan on ``on``: the outstanding principal, the borrower's
        interest of the instalments due and the borrower's interest accrued since the last
        due date (no penalty)."""
        kept, accrued = self.settled_rows(on)
        return self.outstanding + self._interest_owed(kept + ([accrued] if accrued else []))

    def _interest_owed(self, billable: list[Row]) -> Decimal:
        return max(ZERO, sum((r.borrower_interest for r in billable), ZERO) - self.interest_paid)

    def apply(self, on: date, amount: Decimal, shorten: bool = False) -> Allocation:
        """Allocate ``amount`` paid on ``on``; update the ledger; raise ``PaymentError``.

        An early repayment lowers the instalments still to come (same end date), or with
        ``shorten`` keeps them about the same and ends the loan sooner."""
        if amount <= 0:
            raise PaymentError("Le montant doit être positif.")
        if self.outstanding <= 0:
            raise PaymentError("Ce prêt est déjà soldé.")
        if self.start is not None and on < self.start:
            raise PaymentError("Un remboursement ne peut pas précéder le décaissement.")
        if self.last_paid_on is not None and on < self.last_paid_on:
            raise PaymentError(
                f"Date antérieure au dernier remboursement enregistré "
                f"({self.last_paid_on:%d/%m/%Y}) : enregistrez les remboursements dans "
                f"l'ordre."
            )
        kept, accrued = self.settled_rows(on)
        settled = kept + ([accrued] if accrued else [])
        payoff = self.outstanding + self._interest_owed(settled)
        if amount > payoff:
            raise PaymentError(
                f"Le montant dépasse ce qui solde le prêt à cette date ({format_money(payoff)})."
            )
        if amount == payoff:
            return self._settle(on, amount, kept, accrued)
        billable = self.billable(on)
        owed = max(ZERO, sum((r.borrower_payment for r in billable), ZERO) - self.regular_paid)
        interest_owed = self._interest_owed(billable)
        interest_part = min(amount, interest_owed)
        principal_part = amount - interest_part
        early = max(ZERO, amount - owed)
        replaced_from, new_rows = None, ()
        future = self.rows[len(billable):]
        if early > 0:
            balance = self.outstanding - principal_part
            months = len(future)
            if shorten:
                step = future[0].payment if self.method == "annuity" else future[0].principal
                months = months_for_installment(balance, self.annual_rate, step,
                                                method=self.method, max_months=len(future))
            schedule = remaining_schedule(
                balance, months, self.annual_rate, future[0].due_date,
                method=self.method, subsidy_share=self.subsidy_share, due_day=self.due_day,
            )
            replaced_from = future[0].number
            new_rows = tuple(
                Row(replaced_from + i, r.due_date, r.payment, r.principal, r.interest,
                    r.subsidy, r.borrower_payment, r.balance)
                for i, r in enumerate(schedule.installments)
            )
            self.rows = list(billable) + list(new_rows)
        self._book(on, amount - early, interest_part, principal_part)
        return Allocation(amount, interest_part, principal_part, early, False,
                          replaced_from, new_rows)

    def _settle(self, on: date, amount: Decimal, kept: list[Row],
                accrued: Row | None) -> Allocation:
        settled = kept + ([accrued] if accrued else [])
        owed = max(ZERO, sum((r.borrower_payment for r in settled), ZERO) - self.regular_paid)
        interest_part = min(amount, self._interest_owed(settled))
        principal_part = amount - interest_part
        early = max(ZERO, amount - owed)
        replaced_from = None
        if len(kept) < len(self.rows):
            replaced_from = self.rows[len(kept)].number
        self.rows = settled
        self._book(on, amount - early, interest_part, principal_part)
        return Allocation(amount, interest_part, principal_part, early, True, replaced_from,
                          (accrued,) if accrued else ())

    def _book(self, on: date, regular: Decimal, interest: Decimal, principal: Decimal):
        self.regular_paid += regular
        self.interest_paid += interest
        self.principal_paid += principal
        self.last_paid_on = on


def row_of(installment: Installment) -> Row:
    return Row(installment.number, installment.due_date, installment.payment,
               installment.principal, installment.interest, installment.subsidy,
               installment.borrower_payment, installment.balance)


#: A loan's schedule as the ledger's rows: read-only rows, no ``Installment`` objects to
#: build and track (a 36-month loan's case page read 36 of them).
_SCHEDULE = rows_statement(
    Installment, Installment.__table__.c.loan_id == bindparam("loan_id"),
    order_by=(Installment.__table__.c.number,))


def ledger_of(session, loan: Loan) -> Ledger:
    rows = read_rows(session, _SCHEDULE, {"loan_id": loan.id}, Installment)
    sums = session.execute(
        select(
            func.coalesce(func.sum(Repayment.amount - Repayment.early), 0),
            func.coalesce(func.sum(Repayment.interest_part), 0),
            func.coalesce(func.sum(Repayment.principal_part), 0),
            func.max(Repayment.paid_on),
        ).where(Repayment.loan_id == loan.id)
    ).one()
    money = [Decimal(str(v)).quantize(Decimal("0.01")) for v in sums[:3]]
    return Ledger(
        amount=loan.amount, annual_rate=loan.annual_rate, method=loan.method,
        subsidy_share=loan.subsidy_share, due_day=loan.due_day,
        rows=[Row(r.number, r.due_date, r.payment, r.principal, r.interest, r.subsidy,
                  r.borrower_payment, r.balance) for r in rows],
        regular_paid=money[0], interest_paid=money[1], principal_paid=money[2],
        last_paid_on=sums[3], start=loan.disbursed_on,
    )


# -- recording ----------------------------------------------------------------------------


def record(session, loan: Loan, on: date, amount: Decimal, actor,
           source: RepaymentSource = RepaymentSource.manual, batch: ImportBatch | None = None,
           external_key: str | None = None, ledger: Ledger | None = None,
           shorten: bool = False) -> Repayment:
    """Record one repayment (allocated, schedule recomputed if early, case closed when the
    loan is settled). Raises ``UserError``; nothing is committed."""
    if loan.status != LoanStatus.repaying:
        raise UserError("Ce prêt n'est pas en remboursement.", status=422, field="amount")
    if on > loan_service.today():
        raise UserError("La date ne peut pas être dans le futur.", status=422, field="paid_on")
    ledger = ledger or ledger_of(session, loan)
    allocation = ledger.apply(on, amount, shorten)
    repayment = Repayment(
        loan_id=loan.id, paid_on=on, amount=amount, source=source,
        batch_id=batch.id if batch is not None else None, external_key=external_key,
        interest_part=allocation.interest_part, principal_part=allocation.principal_part,
        early=allocation.early, recorded_by_id=getattr(actor, "id", None),
    )
    session.add(repayment)
    if allocation.replaced_from is not None:
        session.execute(delete(Installment).where(
            Installment.loan_id == loan.id, Installment.number >= allocation.replaced_from
        ))
        loan_service.write_installments(session, loan, allocation.new_rows,
                                        allocation.replaced_from)
    session.flush()
    record_audit(session, "loan.repayment", loan, actor=actor, amount=amount, paid_on=on,
                 early=allocation.early, source=str(source))
    loan_service.emit(loan, "repayment", {
        "amount": f"{amount:.2f}", "paid_on": on.isoformat(),
        "interest": f"{allocation.interest_part:.2f}",
        "principal": f"{allocation.principal_part:.2f}", "early": f"{allocation.early:.2f}",
    })
    case = loan.case
    if case.state == State.disbursed:
        loan_service._move(session, case, State.repaying, actor)
    if allocation.settles:
        reason = "early_repayment" if allocation.replaced_from is not None else "repaid"
        loan.status = LoanStatus.repaid
        loan.closed_on = on
        loan.late_since = None
        session.flush()
        loan_service.emit(loan, "closed", {"reason": reason})
        loan_service.close_case(session, loan, reason, actor)
    elif loan.late_since is not None:
        from .arrears import loan_arrears

        if loan_arrears(ledger.rows, ledger.regular_paid, on).days_past_due == 0:
            loan.late_since = None
    return repayment


def parse_manual(raw: dict) -> tuple[date, Decimal]:
    on = loan_service.parse_date(raw.get("paid_on"), "paid_on")
    amount = parse_amount(raw.get("amount"), "amount")
    return on, amount


# -- CSV import ---------------------------------------------------------------------------

HEADERS = {
    "reference": {"reference", "reference du pret", "reference pret", "loan reference",
                  "loan", "pret", "dossier", "reference dossier", "ref"},
    "date": {"date", "date de paiement", "date du paiement", "date paiement", "paid on",
             "date de remboursement", "date remboursement"},
    "amount": {"montant", "amount", "montant paye", "montant rembourse", "somme"},
}


@dataclass
class ImportLine:
    number: int  # line in the file (header is line 1)
    reference: str
    raw_date: str
    raw_amount: str
    on: date | None = None
    amount: Decimal | None = None
    key: str = ""
    status: str = "new"  # new | already | error
    errors: list[str] = field(default_factory=list)

    @property
    def error(self) -> str:
        return " ".join(self.errors)


@dataclass
class ImportReport:
    filename: str
    sha256: str
    lines: list[ImportLine]
    problems: list[str] = field(default_factory=list)  # file-level errors

    @property
    def errors(self) -> list[ImportLine]:
        return [line for line in self.lines if line.status == "error"]

    @property
    def new(self) -> list[ImportLine]:
        return [line for line in self.lines if line.status == "new"]

    @property
    def already(self) -> list[ImportLine]:
        return [line for line in self.lines if line.status == "already"]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.errors


def _norm_header(text: str) -> str:
    """``"Référence du prêt"`` -> ``"reference du pret"`` (accents, case, separators)."""
    import re
    import unicodedata

    plain = "".join(c for c in unicodedata.normalize("NFKD", text or "")
                    if not unicodedata.combining(c)).lower()
    return re.sub(r"[\s'’_\-./]+", " ", plain).strip()


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UserError("Fichier illisible (encodage).", status=422, field="file")


def parse_csv(content: bytes, filename: str = "") -> ImportReport:
    """Lines of a lender's CSV file, each parsed or with its errors (PURE)."""
    digest = hashlib.sha256(content).hexdigest()
    report = ImportReport(filename=filename, sha256=digest, lines=[])
    if len(content) > MAX_IMPORT_BYTES:
        report.problems.append("Fichier trop volumineux (2 Mo au plus).")
        return report
    try:
        text = _decode(content)
    except UserError as exc:
        report.problems.append(exc.message)
        return report
    if not text.strip():
        report.problems.append("Le fichier est vide.")
        return report
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, [])
    columns = {}
    for index, name in enumerate(header):
        for key, names in HEADERS.items():
            if _norm_header(name) in names and key not in columns:
                columns[key] = index
    missing = [k for k in ("reference", "date", "amount") if k not in columns]
    if missing:
        labels = {"reference": "référence du prêt", "date": "date", "amount": "montant"}
        report.problems.append(
            "Colonnes manquantes : " + ", ".join(labels[m] for m in missing)
            + " (attendu : référence du prêt ; date ; montant)."
        )
        return report
    seen: dict[tuple, int] = {}
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(report.lines) >= MAX_IMPORT_LINES:
            report.problems.append(f"{MAX_IMPORT_LINES} lignes au plus par fichier.")
            break

        def cell(key, cells=cells):
            i = columns[key]
            return cells[i].strip() if i < len(cells) else ""

        line = ImportLine(number, cell("reference"), cell("date"), cell("amount"))
        if not line.reference:
            line.errors.append("Référence du prêt manquante.")
        try:
            line.on = loan_service.parse_date(line.raw_date, "date")
        except UserError:
            line.errors.append(f"Date invalide : « {line.raw_date} » (JJ/MM/AAAA).")
        try:
            line.amount = parse_amount(line.raw_amount, "amount")
        except UserError as exc:
            line.errors.append(f"Montant invalide : « {line.raw_amount} » ({exc.message})")
        if line.errors:
            line.status = "error"
        else:
            identity = (line.reference.upper(), line.on, line.amount)
            seen[identity] = seen.get(identity, 0) + 1
            line.key = hashlib.sha256(
                f"{identity[0]}|{line.on.isoformat()}|{line.amount:.2f}|{seen[identity]}"
                .encode()
            ).hexdigest()
        report.lines.append(line)
    if not report.lines and not report.problems:
        report.problems.append("Aucune ligne de remboursement dans le fichier.")
    return report


def _check_against_database(session, report: ImportReport) -> dict[str, Loan]:
    """Mark lines already imported and simulate the new ones loan by loan, in date order,
    so that every error (unknown loan, amount above the balance…) shows on its line."""
    keys = [line.key for line in report.lines if line.key]
    existing = set()
    for start in range(0, len(keys), 500):
        existing.update(session.scalars(
            select(Repayment.external_key).where(
                Repayment.external_key.in_(keys[start:start + 500]))
        ).all())
    references = {line.reference for line in report.lines if line.status != "error"}
    loans = {
        loan.reference.upper(): loan
        for loan in session.scalars(select(Loan).where(
            func.upper(Loan.reference).in_([r.upper() for r in references])
        ))
    } if references else {}
    ledgers: dict = {}
    today = loan_service.today()
    pending = sorted(
        (line for line in report.lines if line.status != "error"),
        key=lambda ln: (ln.reference.upper(), ln.on, ln.number),
    )
    for line in pending:
        if line.key in existing:
            line.status = "already"
            continue
        loan = loans.get(line.reference.upper())
        if loan is None:
            line.errors.append(f"Prêt inconnu : « {line.reference} ».")
        elif loan.status != LoanStatus.repaying:
            line.errors.append("Ce prêt n'est pas en remboursement.")
        elif line.on > today:
            line.errors.append("Date dans le futur.")
        else:
            ledger = ledgers.get(loan.id) or ledgers.setdefault(loan.id, ledger_of(session, loan))
            try:
                ledger.apply(line.on, line.amount)
            except UserError as exc:
                line.errors.append(exc.message)
        if line.errors:
            line.status = "error"
    return loans


def preview_import(session, content: bytes, filename: str = "") -> ImportReport:
    """What importing the file would do, line by line; writes nothing."""
    report = parse_csv(content, filename)
    if not report.problems:
        _check_against_database(session, report)
    return report


def run_import(session, content: bytes, filename: str, actor) -> tuple[ImportReport, int]:
    """Import the file's new lines (all or nothing). Returns the report and the number of
    repayments created (0 when every line was already imported)."""
    report = parse_csv(content, filename)
    if report.problems:
        raise UserError(" ".join(report.problems), status=422, field="file")
    loans = _check_against_database(session, report)
    if report.errors:
        raise UserError(
            f"{plural(len(report.errors), 'ligne', 'lignes')} en erreur : corrigez le fichier, "
            f"rien n'a été "
            f"importé.", status=422, field="file",
        )
    new = sorted(report.new, key=lambda ln: (ln.on, ln.reference.upper(), ln.number))
    if not new:
        return report, 0
    batch = session.scalar(select(ImportBatch).where(ImportBatch.file_sha256 == report.sha256))
    if batch is None:
        batch = ImportBatch(filename=(filename or "")[:255], file_sha256=report.sha256,
                            imported_by_id=getattr(actor, "id", None),
                            lines_total=len(report.lines))
        session.add(batch)
        session.flush()
    for line in new:
        record(session, loans[line.reference.upper()], line.on, line.amount, actor,
               source=RepaymentSource.import_, batch=batch, external_key=line.key)
    batch.lines_created += len(new)
    batch.imported_at = utcnow()
    record_audit(session, "loan.repayment_import", batch, actor=actor, filename=filename,
                 created=len(new), already=len(report.already))
    return report, len(new)
