"""The evaluation the seed asks for before a file goes to the lender, enforced.

"A first interview, then one to three more before the file is examined": the move to the
lender (``submitted_to_lender``) is refused, with every missing item named, while the
case has fewer held interviews (with their date) than
``tenant.settings["evaluation"]["min_interviews"]`` (default 1) or no budget. It is a
veto through the one contract (``ccas_case_before_transition``), as a plugin's would be.

The documents a purpose needs beyond the tenant's list come through
``ccas_required_documents`` (this module's implementation: the lease or landlord's
letter for a housing project, the registration for a training; a partner plugin adds
its own the same way).

:func:`affordability` compares an instalment with the payment the budget shows the
household can bear (``BudgetFigures.max_instalment``); the lender's decision uses it
(``core.plugin_api.affordability``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .. import cases
from ..hookspecs import hookimpl
from ..models import State
from ..plugins.types import DocumentRequirement

DEFAULT_MIN_INTERVIEWS = 1

#: Documents a purpose needs beyond the tenant's list.
PURPOSE_DOCUMENTS: dict[str, tuple[DocumentRequirement, ...]] = {
    "housing": (DocumentRequirement("lease", "Bail ou attestation du bailleur"),),
    "training": (DocumentRequirement("training_registration",
                                     "Attestation d'inscription à la formation"),),
}


def min_interviews(tenant) -> int:
    raw = ((getattr(tenant, "settings", None) or {}).get("evaluation") or {}).get(
        "min_interviews", DEFAULT_MIN_INTERVIEWS)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return DEFAULT_MIN_INTERVIEWS
    return max(0, min(value, 10))


def missing_for_submission(session, case, tenant) -> list[str]:
    """What the evaluation still lacks before the file may go to the lender (French)."""
    missing = []
    today = cases.local_today(tenant)
    held = [i for i in cases.interviews(session, case) if i.held_on and i.held_on <= today]
    needed = min_interviews(tenant)
    if len(held) < needed:
        missing.append("un entretien d'évaluation tenu, avec sa date" if needed == 1
                       else f"{needed} entretiens d'évaluation tenus, avec leur date "
                            f"({len(held)} enregistré{'s' if len(held) > 1 else ''})")
    if cases.budget_figures(session, case, tenant) is None:
        missing.append("le budget du foyer (ressources et charges)")
    return missing


@hookimpl
def ccas_case_before_transition(case, transition, tenant, session):
    if str(transition.target) != State.submitted_to_lender:
        return None
    missing = missing_for_submission(session, case, tenant)
    if not missing:
        return None
    return ("Transmission au prêteur impossible : l'évaluation n'est pas complète. Il "
            "manque " + " ; ".join(missing) + ".")


@hookimpl
def ccas_required_documents(case):
    return list(PURPOSE_DOCUMENTS.get(str(case.purpose), ())) or None


@dataclass(frozen=True)
class Affordability:
    """An instalment against the payment the budget allows."""

    instalment: Decimal
    bearable: Decimal | None  # None: no budget recorded
    over: bool  # the instalment is above what the budget allows

    @property
    def excess(self) -> Decimal:
        if self.bearable is None or not self.over:
            return Decimal("0")
        return self.instalment - self.bearable


def affordability(session, case, tenant, instalment) -> Affordability:
    """Compare ``instalment`` with the budget's bearable payment (``max_instalment``)."""
    instalment = Decimal(str(instalment))
    figures = cases.budget_figures(session, case, tenant)
    if figures is None:
        return Affordability(instalment, None, False)
    bearable = Decimal(str(figures.max_instalment))
    return Affordability(instalment, bearable, instalment > bearable)
