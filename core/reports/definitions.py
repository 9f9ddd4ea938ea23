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

#: The milestones of the delays and the outcome of each state come from the tenant's
#: workflow (``core.workflow.definitions``: the core's part and its plugins'), see
#: ``core.reports.queries.delay_histograms`` and ``partner_cases``.
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
#: The lender plugin's names for the same figures (its ``data["loans"]``).
LOAN_KEY_ALIASES = {
    "granted": "count", "average": "average_amount", "outstanding": "portfolio_outstanding",
    "city_subsidy_cost": "subsidy_cost",
}
LOAN_LABELS = {
    "count": "Prêts accordés",
    "disbursed": "Prêts décaissés",
    "amount_lent": "Montant prêté (€)",
    "average_amount": "Montant moyen (€)",
    "average_months": "Durée moyenne (mois)",
    "portfolio_outstanding": "Encours (€)",
    "par30": "Portefeuille à risque à 30 jours (PAR30, %)",
    "defaults": "Défaillances",
    "guarantee_calls": "Appels en garantie (€)",
    "subsidy_cost": "Coût de la bonification pour la Ville (€)",
}

#: Ageing buckets of loans in arrears (a lender's ``loans["ageing"]``).
AGEING_LABELS = {
    "1-30": "1 à 30 jours",
    "31-60": "31 à 60 jours",
    "61-90": "61 à 90 jours",
    "90+": "Plus de 90 jours",
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
