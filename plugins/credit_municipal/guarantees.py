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

from core.plugin_api import State, UserError, format_money, record_audit

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


# -- write-off and recoveries ---------------------------------------------------------------


def loss_shares(loss: Decimal, calls: dict[str, Decimal]) -> dict[str, Decimal]:
    """Who bore the loss (PURE): each guarantor its call, the lender the rest."""
    shares = {code: amount for code, amount in calls.items() if amount > 0}
    shares[LENDER] = loss - sum(shares.values(), ZERO)
    return shares


def split_pro_rata(amount: Decimal, shares: dict[str, Decimal]) -> dict[str, Decimal]:
    """``amount`` divided in proportion to ``shares`` to the cent (PURE), largest
    remainder: the parts always add up to ``amount`` exactly (ties to the first party)."""
    total = sum(shares.values(), ZERO)
    cents = int(amount * 100)
    if total <= 0:
        return {party: ZERO for party in shares}
    weights = {party: int(share * 100) for party, share in shares.items()}
    whole = sum(weights.values())
    floors = {party: cents * w // whole for party, w in weights.items()}
    left = cents - sum(floors.values())
    order = sorted(shares, key=lambda p: (-((cents * weights[p]) % whole), list(shares).index(p)))
    for party in order[:left]:
        floors[party] += 1
    return {party: Decimal(c).scaleb(-2) for party, c in floors.items()}


def recovery_split(amount: Decimal, shares: dict[str, Decimal],
                   returned: dict[str, Decimal] | None = None) -> dict[str, Decimal]:
    """Each party's part of a new recovery of ``amount`` (PURE): pro rata of the loss each
    bore, to the cent, never more than what a party still has to get back (``shares``
    minus ``returned``). The parts add up to ``amount``; a loss fully recovered returns to
    each party exactly what it bore."""
    returned = returned or {}
    room = {p: shares[p] - returned.get(p, ZERO) for p in shares}
    if amount > sum(room.values(), ZERO):
        raise ValueError("the recovery exceeds what is left to recover")
    parts = {p: min(room[p], v) for p, v in split_pro_rata(amount, shares).items()}
    left = amount - sum(parts.values(), ZERO)
    for party in shares:  # cents a capped party could not take go to the others, in order
        extra = min(left, room[party] - parts[party])
        parts[party] += extra
        left -= extra
    return parts


def loan_loss(session, loan: Loan) -> tuple[Decimal, dict[str, Decimal]]:
    """(loss, who bore it) of a defaulted loan."""
    calls = dict(session.execute(
        select(GuaranteeCall.guarantor, GuaranteeCall.amount)
        .where(GuaranteeCall.loan_id == loan.id)).all())
    loss = loan.default_outstanding or ZERO
    return loss, loss_shares(loss, {k: Decimal(str(v)) for k, v in calls.items()})


def recovered(session, loan: Loan) -> Decimal:
    from .models import Recovery

    total = session.scalar(select(func.coalesce(func.sum(Recovery.amount), 0))
                           .where(Recovery.loan_id == loan.id))
    return Decimal(str(total)).quantize(CENT)


def returned_to(session, loan: Loan) -> dict[str, Decimal]:
    """What the recoveries of the loan returned so far to each party."""
    from .models import RecoveryShare

    rows = session.execute(select(RecoveryShare.party, func.sum(RecoveryShare.amount))
                           .where(RecoveryShare.loan_id == loan.id)
                           .group_by(RecoveryShare.party)).all()
    return {party: Decimal(str(total)).quantize(CENT) for party, total in rows}


def write_off(session, loan: Loan, actor, on: date) -> None:
    """Write the defaulted loan off on ``on``: the loss (outstanding at the default) is
    final, borne by the guarantors called and the lender; recoveries may follow."""
    from . import loans as loan_service

    if loan.status != LoanStatus.defaulted:
        raise UserError("Déclarez d'abord la défaillance : seul un prêt défaillant peut être "
                        "passé en perte.", status=422)
    if loan.written_off_on is not None:
        raise UserError(f"Ce prêt est déjà passé en perte le {loan.written_off_on:%d/%m/%Y}.",
                        status=422)
    if on > loan_service.today() or on < loan.default_declared_on:
        raise UserError("La date du passage en perte doit suivre la défaillance et ne pas "
                        "être dans le futur.", status=422, field="written_off_on")
    loss, shares = loan_loss(session, loan)
    loan.written_off_on = on
    session.flush()
    detail = {party: f"{amount:.2f}" for party, amount in shares.items()}
    record_audit(session, "loan.written_off", loan, actor=actor, loss=f"{loss:.2f}", **detail)
    loan_service.emit(loan, "written_off", {"loss": f"{loss:.2f}", "shares": detail})


def record_recovery(session, loan: Loan, on: date, amount: Decimal, actor):
    """Record money recovered on a written-off loan and return it pro rata to those who
    bore the loss. Refused above what is left to recover. Nothing is committed."""
    from . import loans as loan_service
    from .models import Recovery, RecoveryShare

    if loan.written_off_on is None:
        raise UserError("Un recouvrement s'enregistre sur un prêt passé en perte.", status=422)
    if amount <= 0:
        raise UserError("Le montant doit être positif.", status=422, field="recovery_amount")
    if on > loan_service.today() or on < loan.written_off_on:
        raise UserError("La date doit suivre le passage en perte et ne pas être dans le "
                        "futur.", status=422, field="received_on")
    loss, shares = loan_loss(session, loan)
    before = recovered(session, loan)
    if before + amount > loss:
        raise UserError(f"Le montant dépasse ce qui reste à recouvrer "
                        f"({format_money(loss - before)}).", status=422, field="recovery_amount")
    recovery = Recovery(loan_id=loan.id, received_on=on, amount=amount,
                        recorded_by_id=getattr(actor, "id", None))
    session.add(recovery)
    session.flush()
    parts = recovery_split(amount, shares, returned_to(session, loan))
    for party, part in parts.items():
        session.add(RecoveryShare(recovery_id=recovery.id, loan_id=loan.id, party=party,
                                  amount=part))
    session.flush()
    detail = {party: f"{part:.2f}" for party, part in parts.items()}
    record_audit(session, "loan.recovery", loan, actor=actor, amount=f"{amount:.2f}",
                 received_on=on, **detail)
    loan_service.emit(loan, "recovery", {"amount": f"{amount:.2f}",
                                         "received_on": on.isoformat(), "shares": detail})
    return recovery
