"""The definitions of the yearly review, in one place (``docs/reports.md`` explains them).

Every figure of a report is computed from ``cases``, ``persons`` and ``case_transitions``
(plus ``referrals`` when present, and the plugins' own sections):

* **requests** of year Y: cases whose ``intake_date`` (the request date, a local date of
  the tenant) falls in Y.
* **instructions** of Y: distinct cases with a transition to ``instruction`` whose time
  ``at`` falls in Y *in the tenant's timezone* (a case resumed after an adjournment counts
  once).
* **granted** of Y: distinct cases with a transition to ``granted`` in Y (the lender's
  decision date). The amount and duration are that transition's
  ``data = {"amount_granted": "<decimal>", "months": n}``.
* **purposes**: share of the year's requests by purpose, in percent with one decimal,
  rounded by the largest-remainder method so that the shares add up to exactly 100.0
  (ties broken by the order of :data:`PURPOSES`).
* **applicants**: the year's requests by age band (age in whole years on the request
  date) and by employment situation (as recorded on the person; ``unknown`` when empty).
* **delays**: for each pair of consecutive milestones, the days elapsed (rounded to the
  nearest whole day) between the first time a case reached each milestone, over the cases
  whose later milestone falls in Y; median (mean of the two middle values for an even
  count) and 90th percentile (nearest rank: the ⌈0.9·n⌉-th value).
* **reorientations**: transitions to ``reoriented`` in Y, by destination
  (``Case.reoriented_to``).
* **partners**: the year's requests whose source is ``referral``, by referring
  organisation, with their outcome (from the case's current state); plus, when the
  referrals table exists, the referrals received from / sent to each partner in Y by
  status.
* **loans**: the lender plugin's ``loans`` figures when it contributes a section with
  one; otherwise the count, sum and average of ``amount_granted`` (and average
  ``months``) over the year's granted transitions.
"""

from __future__ import annotations

from ..models import EMPLOYMENT_LABELS, PURPOSE_LABELS

#: Purposes in report order (the seed's order of importance, then the rest).
PURPOSES: tuple[str, ...] = (
    "mobility", "housing", "debts", "training", "household_equipment", "health",
    "employment", "other",
)

#: Age bands: (key, lowest age included, highest age included or None).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under_25", 0, 24),
    ("25_34", 25, 34),
    ("35_44", 35, 44),
    ("45_54", 45, 54),
    ("55_64", 55, 64),
    ("65_and_over", 65, None),
)
AGE_UNKNOWN = "unknown"

AGE_LABELS = {
    "under_25": "Moins de 25 ans",
    "25_34": "25 à 34 ans",
    "35_44": "35 à 44 ans",
    "45_54": "45 à 54 ans",
    "55_64": "55 à 64 ans",
    "65_and_over": "65 ans et plus",
    "unknown": "Non renseigné",
}

#: Milestones of a case, in order: key -> how the first time a case reached it is found.
#: ``("to", states)``: first transition to one of the states; ``("from", states)``: first
#: transition out of one of the states (the FICP result is the move out of ficp_pending).
MILESTONES: tuple[tuple[str, tuple[str, tuple[str, ...]]], ...] = (
    ("intake", ("to", ("intake",))),
    ("ficp_result", ("from", ("ficp_pending",))),
    ("evaluation", ("to", ("evaluation",))),
    ("instruction", ("to", ("instruction",))),
    ("submission", ("to", ("submitted_to_lender",))),
    ("decision", ("to", ("granted", "refused", "adjourned"))),
)

#: Delays reported: key -> (earlier milestone, later milestone).
DELAYS: tuple[tuple[str, str, str], ...] = (
    ("intake_to_ficp_result", "intake", "ficp_result"),
    ("ficp_result_to_evaluation", "ficp_result", "evaluation"),
    ("evaluation_to_instruction", "evaluation", "instruction"),
    ("instruction_to_submission", "instruction", "submission"),
    ("submission_to_decision", "submission", "decision"),
    ("intake_to_decision", "intake", "decision"),
)

DELAY_LABELS = {
    "intake_to_ficp_result": "Demande → résultat FICP",
    "ficp_result_to_evaluation": "Résultat FICP → premier entretien",
    "evaluation_to_instruction": "Premier entretien → instruction",
    "instruction_to_submission": "Instruction → transmission au prêteur",
    "submission_to_decision": "Transmission → décision",
    "intake_to_decision": "Demande → décision (total)",
}

#: Outcome of a case, from its current state (partners' referrals).
OUTCOME_OF_STATE: dict[str, str] = {
    "intake": "in_progress",
    "ficp_pending": "in_progress",
    "documents_requested": "in_progress",
    "evaluation": "in_progress",
    "instruction": "in_progress",
    "submitted_to_lender": "in_progress",
    "adjourned": "in_progress",
    "granted": "granted",
    "signing": "granted",
    "withdrawal_period": "granted",
    "disbursed": "granted",
    "repaying": "granted",
    "closed": "granted",
    "withdrawn": "granted",
    "refused": "refused",
    "ficp_registered": "refused",
    "reoriented": "reoriented",
    "abandoned": "abandoned",
}
OUTCOMES: tuple[str, ...] = ("in_progress", "granted", "refused", "reoriented", "abandoned")
OUTCOME_LABELS = {
    "in_progress": "En cours",
    "granted": "Accordé",
    "refused": "Refusé",
    "reoriented": "Réorienté",
    "abandoned": "Abandonné",
}

EMPLOYMENT_KEYS: tuple[str, ...] = (*(str(k) for k in EMPLOYMENT_LABELS), "unknown")
EMPLOYMENT_REPORT_LABELS = {
    **{str(k): v for k, v in EMPLOYMENT_LABELS.items()}, "unknown": "Non renseigné",
}
PURPOSE_REPORT_LABELS = {str(k): v for k, v in PURPOSE_LABELS.items()}

#: Loans figures and their French labels (``None`` when no source can give them).
LOAN_KEYS: tuple[str, ...] = (
    "count", "amount_lent", "average_amount", "average_months", "portfolio_outstanding",
    "par30", "defaults", "guarantee_calls", "subsidy_cost",
)
LOAN_LABELS = {
    "count": "Prêts accordés",
    "amount_lent": "Montant prêté (€)",
    "average_amount": "Montant moyen (€)",
    "average_months": "Durée moyenne (mois)",
    "portfolio_outstanding": "Encours (€)",
    "par30": "Portefeuille à risque à 30 jours (PAR30, %)",
    "defaults": "Défaillances",
    "guarantee_calls": "Appels en garantie",
    "subsidy_cost": "Coût de la bonification pour la Ville (€)",
    "source": "Source",
}

HEADLINE_LABELS = {
    "requests": "Demandes",
    "instructions": "Instructions",
    "granted": "Prêts accordés",
}

SECTION_LABELS = {
    "purposes": "Objets des demandes (%)",
    "purpose_counts": "Objets des demandes (nombre)",
    "monthly_requests": "Demandes par mois",
    "applicants": "Profil des demandeurs",
    "delays": "Délais (jours)",
    "reorientations": "Réorientations",
    "partners": "Orientations par les partenaires",
    "loans": "Prêts",
    "sections": "Extensions",
}

MONTH_LABELS = (
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
    "nov.", "déc.",
)
