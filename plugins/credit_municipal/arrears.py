"""Arrears: days past due per loan, portfolio at risk, the social worker's alert.

* :func:`loan_arrears` and :func:`par` are PURE. A loan's repayments cover its instalments
  oldest first; the oldest instalment not fully covered and due before the day is late by
  ``day - due_date`` days. PAR30 is the outstanding principal of the loans with an
  instalment more than 30 days late divided by the total outstanding principal.
* :func:`portfolio_at_risk` computes the same ratio in SQL, for the reports.
* :func:`check_arrears` alerts the case's social worker at the first missed instalment of
  an episode (``ccas_loan_event`` ``"late"`` + an e-mail through the outbox), once: the
  alert is not repeated until the loan has been brought up to date. The worker runs it
  every morning for each tenant that enabled the plugin (job
  ``credit_municipal.arrears``, :func:`scheduled_jobs`); by hand:
  ``ccas credit-municipal arrears --tenant SLUG``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import click
from sqlalchemy import and_, func, or_, select

from core.plugin_api import (
    ScheduledJob,
    db_session,
    enqueue_email,
    format_money,
    local_today,
    plural,
    tenant_command,
    utcnow,
)

from .models import Installment, Loan, LoanStatus, Repayment

ZERO = Decimal("0.00")
PAR_DAYS = 30


@dataclass(frozen=True)
class LoanArrears:
    days_past_due: int
    oldest_unpaid_due: date | None
    amount_late: Decimal


def loan_arrears(rows: Sequence, regular_paid: Decimal, on: date) -> LoanArrears:
    """Arrears of one loan on ``on`` (PURE).

    :param rows: the live instalments in order (``due_date``, ``borrower_payment``).
    :param regular_paid: what the borrower paid towards them (early repayments excluded).
    """
    cumulative, oldest = ZERO, None
    for row in rows:
        cumulative += row.borrower_payment
        if cumulative > regular_paid:
            oldest = row
            break
    if oldest is None or oldest.due_date >= on:
        return LoanArrears(0, None, ZERO)
    due = sum((r.borrower_payment for r in rows if r.due_date < on), ZERO)
    return LoanArrears((on - oldest.due_date).days, oldest.due_date,
                       max(ZERO, due - regular_paid))


def par(positions: Iterable[tuple[Decimal, int]], days: int = PAR_DAYS) -> Decimal | None:
    """Portfolio at risk (PURE): share (0 to 1, four decimals) of the outstanding principal
    held by loans more than ``days`` days past due. ``positions``: (outstanding, days past
    due) per loan. ``None`` when nothing is outstanding."""
    total = at_risk = ZERO
    for outstanding, dpd in positions:
        total += outstanding
        if dpd > days:
            at_risk += outstanding
    if total <= 0:
        return None
    return (at_risk / total).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


# -- database -------------------------------------------------------------------------------


def active_on(on: date):
    """Loans in the portfolio on ``on``: disbursed by then, not defaulted by then."""
    return and_(
        Loan.disbursed_on.is_not(None), Loan.disbursed_on <= on,
        Loan.status.in_([LoanStatus.repaying, LoanStatus.repaid, LoanStatus.defaulted]),
        or_(Loan.default_declared_on.is_(None), Loan.default_declared_on > on),
    )


def _paid_by_loan(on: date):
    return (
        select(
            Repayment.loan_id.label("loan_id"),
            func.sum(Repayment.amount - Repayment.early).label("regular"),
            func.sum(Repayment.principal_part).label("principal"),
        )
        .where(Repayment.paid_on <= on)
        .group_by(Repayment.loan_id)
        .subquery()
    )


def portfolio_at_risk(session, on: date, days: int = PAR_DAYS) -> dict:
    """``{"outstanding", "at_risk", "par"}`` on ``on``, aggregated in SQL: a loan is at
    risk when the instalments due more than ``days`` days before ``on`` exceed what was
    paid (payments cover the oldest instalments first)."""
    cutoff = on - timedelta(days=days)
    paid = _paid_by_loan(on)
    late_due = (
        select(Installment.loan_id.label("loan_id"),
               func.sum(Installment.borrower_payment).label("due"))
        .where(Installment.due_date < cutoff)
        .group_by(Installment.loan_id)
        .subquery()
    )
    outstanding = Loan.amount - func.coalesce(paid.c.principal, 0)
    at_risk = func.coalesce(late_due.c.due, 0) > func.coalesce(paid.c.regular, 0)
    row = session.execute(
        select(
            func.coalesce(func.sum(outstanding), 0),
            func.coalesce(func.sum(_case_when(at_risk, outstanding)), 0),
        )
        .select_from(Loan)
        .outerjoin(paid, paid.c.loan_id == Loan.id)
        .outerjoin(late_due, late_due.c.loan_id == Loan.id)
        .where(active_on(on))
    ).one()
    total = Decimal(str(row[0])).quantize(Decimal("0.01"))
    risky = Decimal(str(row[1])).quantize(Decimal("0.01"))
    ratio = (risky / total).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP) if total else None
    return {"outstanding": total, "at_risk": risky, "par": ratio}


def _case_when(condition, value):
    from sqlalchemy import case

    return case((condition, value), else_=0)


@dataclass
class LoanPosition:
    loan: Loan
    outstanding: Decimal
    arrears: LoanArrears


def positions(session, on: date, loans: list[Loan] | None = None) -> list[LoanPosition]:
    """Outstanding principal and arrears of each repaying loan on ``on``."""
    from .repayments import ledger_of

    if loans is None:
        loans = session.scalars(
            select(Loan).where(Loan.status == LoanStatus.repaying).order_by(Loan.reference)
        ).all()
    out = []
    for loan in loans:
        ledger = ledger_of(session, loan)
        out.append(LoanPosition(loan, ledger.outstanding,
                                loan_arrears(ledger.rows, ledger.regular_paid, on)))
    return out


def check_arrears(session, on: date) -> list[tuple[LoanPosition, bool]]:
    """Alert at the first missed instalment of each episode; returns (position, alerted)
    for every late loan. Nothing is committed."""
    from . import loans as loan_service

    results = []
    for position in positions(session, on):
        loan, arrears = position.loan, position.arrears
        if arrears.days_past_due == 0:
            loan.late_since = None
            continue
        alerted = False
        if loan.late_since is None:
            loan.late_since = arrears.oldest_unpaid_due
            loan.late_alerted_at = utcnow()
            alerted = True
            data = {"days_late": arrears.days_past_due,
                    "due_date": arrears.oldest_unpaid_due.isoformat(),
                    "amount_late": f"{arrears.amount_late:.2f}"}
            loan_service.emit(loan, "late", data)
            case = loan.case
            for to in loan_service.ccas_recipients(session, case):
                enqueue_email(
                    session, to, f"Échéance impayée – dossier {case.reference}",
                    f"L'échéance du {arrears.oldest_unpaid_due:%d/%m/%Y} du prêt "
                    f"{loan.reference} n'est pas réglée "
                    f"({plural(arrears.days_past_due, 'jour', 'jours')} de retard, "
                    f"{format_money(arrears.amount_late)} dus).\nL'accompagnement peut aider à "
                    f"éviter un incident : prenez contact avec la personne.\n",
                    topic=f"credit_municipal.late.{loan.id}",
                )
        results.append((position, alerted))
    return results


def arrears_job(tenant, session, now: datetime) -> str | None:
    """The worker's daily run: :func:`check_arrears` on the tenant's today."""
    results = check_arrears(session, local_today(tenant))
    if not results:
        return None
    alerted = sum(1 for _position, sent in results if sent)
    return (f"{plural(len(results), 'prêt en retard', 'prêts en retard')}, "
            f"{plural(alerted, 'alerte envoyée', 'alertes envoyées')}")


def defaults_job(tenant, session, now: datetime) -> str | None:
    """The worker's daily run of the default rule (``delinquency.propose_defaults``)."""
    from .delinquency import propose_defaults

    proposed, lifted = propose_defaults(session, tenant, local_today(tenant))
    if not proposed and not lifted:
        return None
    return (f"{plural(len(proposed), 'défaillance proposée', 'défaillances proposées')}, "
            f"{plural(len(lifted), 'proposition levée', 'propositions levées')}")


def scheduled_jobs() -> list[ScheduledJob]:
    return [
        ScheduledJob("credit_municipal.arrears", arrears_job, every=timedelta(days=1),
                     at=timedelta(hours=4), label="Détection des impayés"),
        # after the arrears check, so that the day's late loans are known
        ScheduledJob("credit_municipal.defaults", defaults_job, every=timedelta(days=1),
                     at=timedelta(hours=4, minutes=30), label="Défaillances proposées"),
    ]


@click.group("credit-municipal")
def cli():
    """Crédit Municipal : tâches du prêteur."""


@cli.command("arrears")
@click.option("--date", "on", default=None,
              help="Jour du contrôle (AAAA-MM-JJ), défaut : aujourd'hui.")
@tenant_command("credit_municipal")
def arrears_command(on, tenant):
    """Contrôler les impayés et alerter le travailleur social dès la première échéance manquée."""
    try:
        day = date.fromisoformat(on) if on else local_today(tenant)
    except ValueError as exc:
        raise click.ClickException(f"Date invalide : {on!r} (attendu AAAA-MM-JJ).") from exc
    session = db_session()
    results = check_arrears(session, day)
    session.commit()
    if not results:
        click.echo(f"Aucun prêt en retard au {day:%d/%m/%Y}.")
    for position, alerted in results:
        a = position.arrears
        click.echo(
            f"{position.loan.reference}\t{a.days_past_due} j\t{format_money(a.amount_late)}"
            + ("\talerte envoyée" if alerted else "")
        )
    summary = portfolio_at_risk(session, day)
    ratio = summary["par"]
    click.echo(f"PAR30 : {'-' if ratio is None else f'{ratio * 100:.2f} %'}")


@cli.command("propose-defaults")
@click.option("--date", "on", default=None,
              help="Jour du contrôle (AAAA-MM-JJ), défaut : aujourd'hui.")
@tenant_command("credit_municipal")
def propose_defaults_command(on, tenant):
    """Proposer la défaillance des prêts en retard au-delà du réglage default_after_days."""
    from .delinquency import propose_defaults

    try:
        day = date.fromisoformat(on) if on else local_today(tenant)
    except ValueError as exc:
        raise click.ClickException(f"Date invalide : {on!r} (attendu AAAA-MM-JJ).") from exc
    session = db_session()
    proposed, lifted = propose_defaults(session, tenant, day)
    session.commit()
    for loan in proposed:
        click.echo(f"{loan.reference}\tdéfaillance proposée")
    for loan in lifted:
        click.echo(f"{loan.reference}\tproposition levée (retard résorbé)")
    click.echo(f"{len(proposed)} proposition(s), {len(lifted)} levée(s) au {day:%d/%m/%Y}.")
