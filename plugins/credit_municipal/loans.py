"""The loan's life at the lender: eligibility, decision, signing, withdrawal period,
disbursement.

The case moves only through the core's workflow (``apply_transition``); this module
checks the moves (:func:`veto`, called by ``ccas_case_before_transition``) and writes
their effects (:func:`react`, called by ``ccas_case_after_transition``), whatever page or
API asked for the move. The data a move needs travels in the transition's data
(JSON-ready strings):

* ``grant``: ``{"amount_granted": "3000.00", "months": 36, "annual_rate": "3.04",
  "method": "annuity", "first_due_date": "2026-03-05" | None}``; when the instalment is
  above what the case's budget allows, also ``{"instalment", "bearable_instalment",
  "affordability_justification"}`` (the written justification is required, and shown
  in the case's history as the move's text);
* ``sign``: ``{"borrower_signed_on", "lender_signed_on", "ccas_signed_on"}`` (ISO dates)
  and ``{"lender_signatory", "ccas_signatory"}`` (names);
* ``disburse``: ``{"disbursed_on": ISO date, "first_due_date": ISO date | None}``.

The service functions (:func:`grant`, :func:`refuse`, :func:`adjourn`, :func:`sign`,
:func:`withdraw`, :func:`disburse`) parse user input, build that data and apply the move.
Nothing is committed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import bindparam, select
from sqlalchemy.orm import object_session

from core.plugin_api import (
    MAX_AMOUNT,
    MAX_MONTHS,
    PURPOSE_LABELS,
    Case,
    LoanInputError,
    Organisation,
    State,
    TransitionError,
    TransitionRequest,
    UserError,
    affordability,
    annual_percentage_rate,
    apply_transition,
    build_schedule,
    current_tenant,
    enqueue_email,
    format_money,
    hooks,
    local_today,
    parse_amount,
    plugin_settings,
    read_rows,
    reasons,
    record_audit,
    round_apr,
    rows_statement,
    schedule_json,
    utcnow,
    validate_loan_inputs,
)

from . import ficp
from .models import Installment, Loan, LoanStatus

NAME = "credit_municipal"
#: The borrower may withdraw within 14 calendar days of signing (Code de la consommation).
WITHDRAWAL_DAYS = 14
#: The lender keeps its offer open at least 15 days.
OFFER_VALID_DAYS = 15


# -- settings and pure checks -------------------------------------------------------------


def settings() -> dict:
    return plugin_settings(NAME)


def eligibility_problems(conf: dict, amount: Decimal, purpose: str,
                         months: int | None = None) -> list[str]:
    """French reasons why a request is outside the lender's terms (empty: eligible).

    PURE: ``conf`` are the plugin settings (``amount_min``, ``amount_max``, ``max_months``,
    ``allowed_purposes``).
    """
    problems = []
    if amount < conf["amount_min"] or amount > conf["amount_max"]:
        problems.append(
            f"Le montant ({format_money(amount)}) doit être compris entre "
            f"{format_money(conf['amount_min'])} et {format_money(conf['amount_max'])}."
        )
    if months is not None and months > conf["max_months"]:
        problems.append(f"La durée ({months} mois) dépasse le maximum de "
                        f"{conf['max_months']} mois.")
    if str(purpose) not in conf["allowed_purposes"]:
        label = PURPOSE_LABELS.get(purpose, str(purpose))
        problems.append(f"L'objet « {label} » n'est pas finançable par le prêteur.")
    return problems


@dataclass(frozen=True)
class LoanTerms:
    amount: Decimal
    months: int
    annual_rate: Decimal
    method: str
    first_due_date: date | None = None

    def as_data(self) -> dict:
        """The grant transition's data; the reports rely on ``amount_granted``/``months``."""
        return {
            "amount_granted": f"{self.amount:.2f}",
            "months": self.months,
            "annual_rate": f"{self.annual_rate:f}",
            "method": self.method,
            "first_due_date": self.first_due_date.isoformat() if self.first_due_date else None,
        }


def parse_date(value, field: str, required: bool = True) -> date | None:
    """A date from a form (``YYYY-MM-DD`` or ``JJ/MM/AAAA``) or an ISO string."""
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        if required:
            raise UserError("Indiquez une date.", status=422, field=field)
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise UserError("Date invalide (JJ/MM/AAAA).", status=422, field=field)


def terms_message(field: str, amount: Decimal, months: int) -> str:
    """The French message naming the rule of the loan arithmetic that ``field`` broke."""
    if field == "months":
        if months < 1:
            return "La durée doit être d'au moins 1 mois."
        return f"La durée ({months} mois) dépasse le maximum de {MAX_MONTHS} mois."
    if field == "amount":
        if amount <= 0:
            return "Le montant doit être positif."
        if amount > MAX_AMOUNT:
            return f"Le montant dépasse le maximum de {format_money(MAX_AMOUNT)}."
        return "Le montant a au plus 2 décimales."
    return {
        "annual_rate": "Le taux doit être un pourcentage positif (6 décimales au plus).",
        "method": "Méthode d’amortissement inconnue : échéances constantes ou amortissement "
                  "constant.",
    }.get(field, "Conditions du prêt invalides.")


def parse_terms(raw: dict, conf: dict) -> LoanTerms:
    """Loan terms from a decision form (or transition data); defaults from the settings.
    Raises ``UserError`` naming the field."""
    amount = parse_amount(raw.get("amount_granted") or raw.get("amount"), "amount_granted")
    try:
        months = int(str(raw.get("months", "")).strip())
    except ValueError as exc:
        raise UserError("Durée invalide (nombre de mois).", status=422, field="months") from exc
    rate_text = str(raw.get("annual_rate") or "").strip().replace(",", ".")
    try:
        rate = Decimal(rate_text) if rate_text else conf["annual_rate"]
    except InvalidOperation as exc:
        raise UserError("Taux invalide.", status=422, field="annual_rate") from exc
    method = (raw.get("method") or conf["schedule_method"]).strip()
    first_due = parse_date(raw.get("first_due_date"), "first_due_date", required=False)
    try:
        validate_loan_inputs(amount, months, rate, method=method)
    except LoanInputError as exc:
        field = {"amount": "amount_granted"}.get(exc.field, exc.field)
        raise UserError(terms_message(exc.field, amount, months), status=422,
                        field=field) from exc
    return LoanTerms(amount, months, rate, method, first_due)


def decision_instalment(terms: LoanTerms, conf: dict) -> Decimal:
    """The largest amount the borrower would pay in a month under ``terms`` (the city's
    share of the interest deducted)."""
    start = today()
    first_due = terms.first_due_date if terms.first_due_date and terms.first_due_date > start \
        else None
    schedule = build_schedule(terms.amount, terms.months, terms.annual_rate, start_date=start,
                              method=terms.method, first_due_date=first_due,
                              subsidy_share=conf["interest_paid_by_city"])
    return max(row.borrower_payment for row in schedule.installments)


def affordability_problem(session, case: Case, terms: LoanTerms, justification: str):
    """``(check, message)``: the instalment against the budget; a message when it is above
    the bearable payment and no written justification was given."""
    check = affordability(session, case, current_tenant(),
                          decision_instalment(terms, settings()))
    if check.over and not (justification or "").strip():
        return check, (
            f"La mensualité ({format_money(check.instalment)}) dépasse la mensualité "
            f"supportable d'après le budget ({format_money(check.bearable)} au plus) : "
            "justifiez la décision par écrit.")
    return check, None


# -- queries ------------------------------------------------------------------------------


#: Built once (a statement built per call costs more than the read); the tenant's
#: criterion is added per execution by the session (``core.tenancy``).
_LOAN_OF = select(Loan).where(Loan.case_id == bindparam("case_id"))


_LOAN_VIEW = rows_statement(Loan, Loan.__table__.c.case_id == bindparam("case_id"))


def loan_row(session, case):
    """:func:`loan_of` as a read-only row (the case page's block shows it)."""
    rows = read_rows(session, _LOAN_VIEW, {"case_id": case.id}, Loan)
    return rows[0] if rows else None


def loan_of(session, case) -> Loan | None:
    return session.scalar(_LOAN_OF, {"case_id": case.id})


def get_loan(session, loan_id) -> Loan | None:
    import uuid

    try:
        key = loan_id if isinstance(loan_id, uuid.UUID) else uuid.UUID(str(loan_id))
    except ValueError:
        return None
    return session.scalar(select(Loan).where(Loan.id == key))


def _tenant():
    return current_tenant()


def today() -> date:
    return local_today(_tenant())


# -- vetoes (ccas_case_before_transition) ------------------------------------------------------


def veto(case: Case, transition, actor, data: dict) -> str | None:
    """The lender's objection to a case move, in French, or ``None``."""
    name = transition.name
    session = object_session(case)
    if name == "submit_to_lender":
        problems = eligibility_problems(settings(), case.amount_requested, case.purpose)
        return " ".join(problems) or None
    if name == "grant":
        if not data.get("amount_granted"):
            return ("La décision d'accord se prend dans le formulaire de décision du prêteur "
                    "(montant, durée, taux).")
        try:
            terms = parse_terms(data, settings())
        except UserError as exc:
            return exc.message
        problems = eligibility_problems(settings(), terms.amount, case.purpose, terms.months)
        if not problems and session is not None:
            problem = ficp.co_borrower_problem(session, case)
            problems = [problem] if problem else []
        if not problems and session is not None:
            _check, problem = affordability_problem(
                session, case, terms, data.get("affordability_justification", ""))
            problems = [problem] if problem else []
        return " ".join(problems) or None
    loan = loan_of(session, case) if session is not None else None
    if name in ("prepare_signing", "sign", "withdraw", "disburse") and loan is None:
        return "Aucun prêt n'est enregistré pour ce dossier."
    if name == "sign":
        if loan.status != LoanStatus.granted:
            return "La signature de ce prêt est déjà enregistrée."
        try:
            _signature(data, loan)
        except UserError as exc:
            return exc.message
    if name == "withdraw":
        if loan.status != LoanStatus.signed or loan.withdrawal_ends_on is None:
            return "Le prêt n'est pas en délai de rétractation."
        if today() > loan.withdrawal_ends_on:
            return (f"Le délai de rétractation a pris fin le "
                    f"{loan.withdrawal_ends_on:%d/%m/%Y}.")
    if name == "disburse":
        return _disbursement_problem(loan, data)
    if name == "close":
        reason = data.get("reason")
        if loan is None:
            return None
        if reason in ("repaid", "early_repayment") and loan.status != LoanStatus.repaid:
            return "Le prêt n'est pas soldé : enregistrez d'abord les remboursements."
        if reason == "default" and loan.status != LoanStatus.defaulted:
            return "Déclarez d'abord la défaillance depuis la page du prêt."
    return None


def _disbursement_problem(loan: Loan, data: dict) -> str | None:
    if loan.status != LoanStatus.signed or loan.withdrawal_ends_on is None:
        return "Le prêt doit être signé avant le décaissement."
    try:
        on = parse_date(data.get("disbursed_on"), "disbursed_on", required=False) or today()
    except UserError as exc:
        return exc.message
    if on > today():
        return "La date de décaissement ne peut pas être dans le futur."
    try:
        first_due = parse_date(data.get("first_due_date"), "first_due_date", required=False)
    except UserError as exc:
        return exc.message
    first_due = first_due or (loan.first_due_date if loan.first_due_date else None)
    if first_due is not None and first_due <= on:
        return "La première échéance doit suivre le décaissement."
    if on <= loan.withdrawal_ends_on:
        return (
            "Décaissement impossible pendant le délai de rétractation de 14 jours "
            f"calendaires : il court jusqu'au {loan.withdrawal_ends_on:%d/%m/%Y} inclus, "
            f"décaissement possible à partir du "
            f"{loan.withdrawal_ends_on + timedelta(days=1):%d/%m/%Y}."
        )
    return None


@dataclass(frozen=True)
class Signature:
    borrower: date
    lender: date
    ccas: date
    lender_signatory: str
    ccas_signatory: str

    @property
    def signed_on(self) -> date:
        """The contract binds once the last of the three parties has signed."""
        return max(self.borrower, self.lender, self.ccas)


def _signature(data: dict, loan: Loan) -> Signature:
    dates = {}
    for party in ("borrower", "lender", "ccas"):
        field = f"{party}_signed_on"
        day = parse_date(data.get(field), field)
        if day > today():
            raise UserError("Une date de signature ne peut pas être dans le futur.",
                            status=422, field=field)
        if day < loan.decided_on:
            raise UserError("Une date de signature ne peut pas précéder la décision.",
                            status=422, field=field)
        dates[party] = day
    names = {}
    for field, label in (("lender_signatory", "du prêteur"), ("ccas_signatory", "du CCAS")):
        names[field] = (data.get(field) or "").strip()
        if not names[field]:
            raise UserError(f"Indiquez le nom du signataire {label}.", status=422, field=field)
        if len(names[field]) > 200:
            raise UserError("200 caractères au plus.", status=422, field=field)
    return Signature(dates["borrower"], dates["lender"], dates["ccas"], **names)


# -- effects (ccas_case_after_transition) -----------------------------------------------------


def react(case: Case, transition, actor, data: dict) -> None:
    session = object_session(case)
    name = transition.name
    if name == "grant":
        _create_loan(session, case, actor, parse_terms(data, settings()))
    elif name in ("refuse", "adjourn"):
        _notify_decision(session, case, name, data)
    elif name == "sign":
        loan = loan_of(session, case)
        sig = _signature(data, loan)
        loan.borrower_signed_on, loan.lender_signed_on = sig.borrower, sig.lender
        loan.ccas_signed_on, loan.signed_on = sig.ccas, sig.signed_on
        loan.lender_signatory, loan.ccas_signatory = sig.lender_signatory, sig.ccas_signatory
        loan.signature_recorded_at = utcnow()
        loan.withdrawal_ends_on = sig.signed_on + timedelta(days=WITHDRAWAL_DAYS)
        loan.status = LoanStatus.signed
        record_audit(session, "loan.signed", loan, actor=actor, signed_on=sig.signed_on)
        emit(loan, "signed", {"signed_on": sig.signed_on.isoformat(),
                              "withdrawal_ends_on": loan.withdrawal_ends_on.isoformat()})
    elif name == "withdraw":
        loan = loan_of(session, case)
        loan.status = LoanStatus.withdrawn
        loan.withdrawn_on = today()
        record_audit(session, "loan.withdrawn", loan, actor=actor)
        emit(loan, "closed", {"reason": "withdrawn"})
    elif name == "disburse":
        loan = loan_of(session, case)
        on = parse_date(data.get("disbursed_on"), "disbursed_on", required=False) or today()
        first_due = parse_date(data.get("first_due_date"), "first_due_date", required=False)
        _start_schedule(session, loan, on, first_due or loan.first_due_date)
        record_audit(session, "loan.disbursed", loan, actor=actor, disbursed_on=on)
        emit(loan, "disbursed", {"disbursed_on": on.isoformat(), "amount": f"{loan.amount:.2f}"})


def emit(loan: Loan, event: str, data: dict) -> None:
    """``ccas_loan_event`` to every plugin the tenant enabled (this one included)."""
    hooks().ccas_loan_event(loan=loan, event=event, data=data)


def _create_loan(session, case: Case, actor, terms: LoanTerms) -> Loan:
    conf = settings()
    decided = today()
    loan = Loan(
        case_id=case.id, reference=case.reference, amount=terms.amount, months=terms.months,
        annual_rate=terms.annual_rate, method=terms.method,
        subsidy_share=conf["interest_paid_by_city"], first_due_date=terms.first_due_date,
        status=LoanStatus.granted, decided_on=decided,
        decided_by_id=getattr(actor, "id", None),
        offer_valid_until=decided + timedelta(days=OFFER_VALID_DAYS),
    )
    session.add(loan)
    session.flush()
    record_audit(session, "loan.granted", loan, actor=actor, **terms.as_data())
    _notify_decision(session, case, "grant", terms.as_data())
    emit(loan, "granted", terms.as_data())
    return loan


def _start_schedule(session, loan: Loan, disbursed_on: date, first_due: date | None) -> None:
    """Write the live schedule from the disbursement date (first due date one month after
    unless one was agreed)."""
    if first_due is not None and first_due <= disbursed_on:
        raise UserError("La première échéance doit suivre le décaissement.", status=422,
                        field="first_due_date")
    schedule = build_schedule(
        loan.amount, loan.months, loan.annual_rate, start_date=disbursed_on,
        method=loan.method, first_due_date=first_due, subsidy_share=loan.subsidy_share,
    )
    loan.disbursed_on = disbursed_on
    loan.due_day = schedule.due_day
    loan.status = LoanStatus.repaying
    write_installments(session, loan, schedule.installments, first_number=1)


def write_installments(session, loan: Loan, rows, first_number: int) -> None:
    for offset, row in enumerate(rows):
        session.add(Installment(
            loan_id=loan.id, number=first_number + offset, due_date=row.due_date,
            payment=row.payment, principal=row.principal, interest=row.interest,
            subsidy=row.subsidy, borrower_payment=row.borrower_payment, balance=row.balance,
        ))
    session.flush()


def provisional_schedule(loan: Loan, start: date | None = None):
    """The offer's schedule before disbursement (from the decision date by default)."""
    return build_schedule(
        loan.amount, loan.months, loan.annual_rate,
        start_date=start or loan.disbursed_on or loan.decided_on, method=loan.method,
        first_due_date=loan.first_due_date if loan.disbursed_on is None else None,
        subsidy_share=loan.subsidy_share,
    )


DECISION_SUBJECTS = {
    "grant": "Prêt accordé",
    "refuse": "Prêt refusé",
    "adjourn": "Dossier ajourné par le prêteur",
}


def ccas_recipients(session, case: Case) -> list[str]:
    """Who hears about the lender's decisions: the case's social worker, else the CCAS."""
    if case.social_worker is not None and case.social_worker.email:
        return [case.social_worker.email]
    emails = session.scalars(
        select(Organisation.email).where(Organisation.kind == "ccas",
                                         Organisation.email.is_not(None))
    ).all()
    return [e for e in emails if e]


def _notify_decision(session, case: Case, name: str, data: dict) -> None:
    if name == "grant":
        detail = (f"Montant accordé : {format_money(data['amount_granted'])}, durée : "
                  f"{data['months']} "
                  f"mois, taux : {data['annual_rate']} %.")
    elif name == "refuse":
        labels = reasons(_tenant(), "refuse")
        detail = f"Motif : {labels.get(data.get('reason'), data.get('reason'))}."
    else:
        detail = f"Éléments manquants : {data.get('reason_text', '').strip()}"
    subject = f"{DECISION_SUBJECTS[name]} – dossier {case.reference}"
    for to in ccas_recipients(session, case):
        enqueue_email(
            session, to, subject,
            f"Décision du Crédit Municipal pour le dossier {case.reference} : "
            f"{DECISION_SUBJECTS[name].lower()}.\n{detail}\n",
            topic=f"credit_municipal.decision.{case.id}",
        )


# -- services (forms, API) ----------------------------------------------------------------


def _move(session, case: Case, target: State, actor, version: int | None = None, **kw):
    return apply_transition(
        session, case,
        TransitionRequest(target=target, version=case.version if version is None else version,
                          **kw),
        actor,
    )


def grant(session, case: Case, raw: dict, actor, version: int | None = None) -> Loan:
    """Grant a submitted case with the terms of the decision form. An instalment above
    the payment the budget allows needs a written justification
    (``affordability_justification``), recorded on the move."""
    terms = parse_terms(raw, settings())
    justification = str(raw.get("affordability_justification") or "").strip()
    if len(justification) > 2000:
        raise UserError("Justification : 2 000 caractères au plus.", status=422,
                        field="affordability_justification")
    check, problem = affordability_problem(session, case, terms, justification)
    if problem:
        raise UserError(problem, status=422, field="affordability_justification")
    data, text = terms.as_data(), ""
    if check.over:
        data.update(instalment=f"{check.instalment:.2f}",
                    bearable_instalment=f"{check.bearable:.2f}",
                    affordability_justification=justification)
        text = (f"Mensualité de {format_money(check.instalment)} au-dessus de la mensualité "
                f"supportable ({format_money(check.bearable)}) : {justification}")
    _move(session, case, State.granted, actor, version, data=data, reason_text=text)
    return loan_of(session, case)


def refuse(session, case: Case, reason: str, actor, comment: str = "",
           version: int | None = None):
    return _move(session, case, State.refused, actor, version, reason=reason,
                 reason_text=comment)


def adjourn(session, case: Case, missing: str, actor, version: int | None = None):
    return _move(session, case, State.adjourned, actor, version, reason_text=missing)


def sign(session, case: Case, raw: dict, actor, version: int | None = None) -> Loan:
    """Record the tripartite signing (moves to the withdrawal period); the case is put
    in ``signing`` first when it is still ``granted``."""
    loan = loan_of(session, case)
    if loan is None:
        raise UserError("Aucun prêt n'est enregistré pour ce dossier.", status=404)
    data = {k: raw.get(k) for k in ("borrower_signed_on", "lender_signed_on", "ccas_signed_on",
                                    "lender_signatory", "ccas_signatory")}
    for key, value in list(data.items()):
        if key.endswith("_on"):
            day = parse_date(value, key)
            data[key] = day.isoformat()
    _signature(data, loan)  # field-level errors before any move
    if case.state == State.granted:
        _move(session, case, State.signing, actor, version)
        version = None
    _move(session, case, State.withdrawal_period, actor, version, data=data)
    return loan


def withdraw(session, case: Case, actor, version: int | None = None):
    return _move(session, case, State.withdrawn, actor, version)


def disburse(session, case: Case, raw: dict, actor, version: int | None = None) -> Loan:
    """Disburse (after the withdrawal period), write the schedule, start repaying."""
    on = parse_date(raw.get("disbursed_on"), "disbursed_on", required=False) or today()
    first_due = parse_date(raw.get("first_due_date"), "first_due_date", required=False)
    if first_due is not None and first_due <= on:
        raise UserError("La première échéance doit suivre le décaissement.", status=422,
                        field="first_due_date")
    data = {"disbursed_on": on.isoformat(),
            "first_due_date": first_due.isoformat() if first_due else None}
    _move(session, case, State.disbursed, actor, version, data=data)
    _move(session, case, State.repaying, actor)
    return loan_of(session, case)


# -- API views of a loan (ccas_loan_details / ccas_loan_schedule) --------------------------


def api_details(session, loan_id) -> dict | None:
    """A loan as JSON-ready data (no personal data beyond the case reference)."""
    loan = get_loan(session, loan_id)
    if loan is None:
        return None
    from .arrears import loan_arrears
    from .repayments import ledger_of

    outstanding = days_late = None
    if loan.disbursed_on is not None:
        ledger = ledger_of(session, loan)
        outstanding = f"{ledger.outstanding:.2f}"
        if loan.status == LoanStatus.repaying:
            days_late = loan_arrears(ledger.rows, ledger.regular_paid, today()).days_past_due

    def iso(value):
        return value.isoformat() if value else None

    return {
        "id": str(loan.id), "reference": loan.reference, "case_id": str(loan.case_id),
        "case_reference": loan.case.reference, "status": str(loan.status),
        "amount": f"{loan.amount:.2f}", "months": loan.months,
        "annual_rate": f"{loan.annual_rate:.2f}", "method": loan.method,
        "interest_paid_by_city": f"{loan.subsidy_share:.2f}",
        "decided_on": iso(loan.decided_on), "offer_valid_until": iso(loan.offer_valid_until),
        "signed_on": iso(loan.signed_on), "withdrawal_ends_on": iso(loan.withdrawal_ends_on),
        "disbursed_on": iso(loan.disbursed_on), "first_due_date": iso(loan.first_due_date),
        "outstanding": outstanding, "days_past_due": days_late,
        "default_declared_on": iso(loan.default_declared_on), "closed_on": iso(loan.closed_on),
    }


def api_schedule(session, loan_id) -> dict | None:
    """The loan's schedule in the shape of ``ccas loan schedule --format json``: the offer's
    schedule before disbursement, the live instalments after (an early repayment replaces
    the instalments still to come)."""
    loan = get_loan(session, loan_id)
    if loan is None:
        return None
    if loan.disbursed_on is None:
        return schedule_json(provisional_schedule(loan))
    rows = session.scalars(
        select(Installment).where(Installment.loan_id == loan.id).order_by(Installment.number)
    ).all()
    if not rows:
        return None
    total_interest = sum((r.interest for r in rows), Decimal(0))
    total_subsidy = sum((r.subsidy for r in rows), Decimal(0))
    principal = sum((r.principal for r in rows), Decimal(0))
    payments = [r.borrower_payment for r in rows]
    apr = annual_percentage_rate(principal, payments) if principal > 0 else Decimal(0)
    return {
        "amount": f"{loan.amount:.2f}", "months": loan.months,
        "annual_rate": f"{loan.annual_rate:.2f}", "method": loan.method,
        "installment": f"{rows[0].payment:.2f}",
        "total_interest": f"{total_interest:.2f}",
        "total_cost": f"{total_interest - total_subsidy:.2f}",
        "apr": f"{round_apr(apr):f}",
        "installments": [
            {"number": r.number, "due_date": r.due_date.isoformat(),
             "payment": f"{r.payment:.2f}", "principal": f"{r.principal:.2f}",
             "interest": f"{r.interest:.2f}", "balance": f"{r.balance:.2f}",
             "borrower_payment": f"{r.borrower_payment:.2f}", "subsidy": f"{r.subsidy:.2f}"}
            for r in rows
        ],
    }


def close_case(session, loan: Loan, reason: str, actor) -> bool:
    """Close the loan's case with ``reason`` (repaid, early_repayment, default). When a
    check refuses the closure (e.g. the final accompaniment summary is not recorded yet),
    the case stays open, the loan keeps its final status and the CCAS is told what is
    missing; the closure is then done from the case page. Returns whether it closed."""
    case = loan.case
    try:
        _move(session, case, State.closed, actor, reason=reason)
    except TransitionError as exc:
        if case.state == State.closed:  # refused after the move: let the caller roll back
            raise
        for to in ccas_recipients(session, case):
            enqueue_email(
                session, to, f"Dossier {case.reference} à clôturer",
                f"Le prêt {loan.reference} est terminé ({reason}) mais le dossier n'a pas pu "
                f"être clôturé automatiquement : {exc.message}\n",
                topic=f"credit_municipal.close.{case.id}",
            )
        return False
    return True
