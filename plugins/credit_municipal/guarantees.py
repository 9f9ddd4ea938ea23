"""Guarantee layers and the calls made on them when a default is declared.

The tenant's settings describe two layers, applied in this order to the loss (the
outstanding principal when the default is declared):

1. the Fonds de cohésion sociale guarantees ``fcs_guarantee`` % (commonly 50 %) of the
   outstanding balance of each loan;
2. the City covers the non-recovered rest, up to a cap of ``city_guarantee`` % (Toulouse:
   15 %) of the amount lent by the scheme; calls already made count against the cap.

What neither layer covers stays with the lender. :func:`compute_calls` and
:func:`cap_usage` are PURE; :func:`declare_default` writes the calls and closes the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from core.plugin_api import State, UserError, record_audit

from .models import GuaranteeCall, Loan, LoanStatus

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
SHARE = "outstanding_share"
CAP = "portfolio_cap"


@dataclass(frozen=True)
class Layer:
    code: str
    label: str
    kind: str  # SHARE: percent of the outstanding; CAP: covers the rest up to a cap
    percent: Decimal


@dataclass(frozen=True)
class Call:
    guarantor: str
    label: str
    amount: Decimal


@dataclass(frozen=True)
class CapUsage:
    guarantor: str
    label: str
    cap: Decimal
    called: Decimal

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.cap - self.called)


LENDER = "lender"


def _pct(value: Decimal, percent: Decimal) -> Decimal:
    return (value * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def layers_from_settings(conf: dict) -> list[Layer]:
    return [
        Layer("fcs", "Fonds de cohésion sociale", SHARE, Decimal(conf["fcs_guarantee"])),
        Layer("city", "Ville", CAP, Decimal(conf["city_guarantee"])),
    ]


def compute_calls(loss: Decimal, layers: list[Layer], amount_lent: Decimal,
                  already_called: dict[str, Decimal] | None = None) -> list[Call]:
    """Each guarantor's call for a ``loss`` (PURE); the last entry is what stays with the
    lender (``guarantor="lender"``)."""
    already_called = already_called or {}
    remaining = loss
    calls = []
    for layer in layers:
        if layer.kind == SHARE:
            amount = min(remaining, _pct(loss, layer.percent))
        else:
            room = max(ZERO, _pct(amount_lent, layer.percent)
                       - already_called.get(layer.code, ZERO))
            amount = min(remaining, room)
        calls.append(Call(layer.code, layer.label, amount))
        remaining -= amount
    calls.append(Call(LENDER, "Crédit Municipal (non couvert)", remaining))
    return calls


def cap_usage(layers: list[Layer], amount_lent: Decimal,
              called: dict[str, Decimal]) -> list[CapUsage]:
    """Calls made against each capped layer (PURE)."""
    return [
        CapUsage(layer.code, layer.label, _pct(amount_lent, layer.percent),
                 called.get(layer.code, ZERO))
        for layer in layers if layer.kind == CAP
    ]


# -- database -------------------------------------------------------------------------------


def amount_lent(session) -> Decimal:
    """Everything the scheme has disbursed (the base of the City's cap)."""
    total = session.scalar(select(func.coalesce(func.sum(Loan.amount), 0))
                           .where(Loan.disbursed_on.is_not(None)))
    return Decimal(str(total)).quantize(CENT)


def called_by_guarantor(session) -> dict[str, Decimal]:
    rows = session.execute(
        select(GuaranteeCall.guarantor, func.sum(GuaranteeCall.amount))
        .group_by(GuaranteeCall.guarantor)
    ).all()
    return {code: Decimal(str(total)).quantize(CENT) for code, total in rows}


def declare_default(session, loan: Loan, actor, on: date) -> list[GuaranteeCall]:
    """Declare the loan in default on ``on``: compute and record each guarantor's call,
    close the case (reason ``default``). Nothing is committed."""
    from . import loans as loan_service
    from .repayments import ledger_of

    if loan.status != LoanStatus.repaying:
        raise UserError("Seul un prêt en remboursement peut être déclaré défaillant.",
                        status=422)
    if on > loan_service.today() or (loan.disbursed_on and on < loan.disbursed_on):
        raise UserError("Date de défaillance invalide.", status=422, field="declared_on")
    loss = ledger_of(session, loan).outstanding
    conf = loan_service.settings()
    calls = compute_calls(loss, layers_from_settings(conf), amount_lent(session),
                          called_by_guarantor(session))
    rows = []
    for call in calls:
        if call.guarantor == LENDER or call.amount <= 0:
            continue
        row = GuaranteeCall(loan_id=loan.id, guarantor=call.guarantor, label=call.label,
                            amount=call.amount, basis=loss, called_on=on)
        session.add(row)
        rows.append(row)
    loan.status = LoanStatus.defaulted
    loan.default_declared_on = on
    loan.default_outstanding = loss
    loan.closed_on = on
    session.flush()
    record_audit(session, "loan.default", loan, actor=actor, outstanding=loss,
                 calls={c.guarantor: f"{c.amount:.2f}" for c in calls})
    loan_service.emit(loan, "default", {
        "outstanding": f"{loss:.2f}", "declared_on": on.isoformat(),
        "calls": {c.guarantor: f"{c.amount:.2f}" for c in calls},
    })
    case = loan.case
    if case.state == State.disbursed:
        loan_service._move(session, case, State.repaying, actor)
    loan_service.close_case(session, loan, "default", actor)
    return rows
