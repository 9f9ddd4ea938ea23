"""The people of the demonstration: applicants shaped on the seed document (mostly under
35, on fixed-term, temp or part-time contracts, or on minimum social benefits). PURE
apart from the ids drawn from the generator."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from ..cases import budget
from ..cases.household import ADULT_AGE

FIRST_NAMES = (
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Emma", "Jade", "Yasmine", "Nadia",
    "Aïcha", "Fatou", "Julie", "Laura", "Océane", "Amandine", "Sandrine", "Nathalie",
    "Lucas", "Hugo", "Thomas", "Nicolas", "Kévin", "Mehdi", "Karim", "Youssef", "Mamadou",
    "Julien", "Romain", "Antoine", "Maxime", "Florian", "Sébastien", "Olivier", "Jérôme",
    "Rémi", "Alexandre", "Bilal", "Sofiane", "Théo",
)
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Durand", "Lefebvre", "Moreau", "Laurent", "Simon",
    "Michel", "Garcia", "Fernandez", "Lopez", "Martinez", "Sanchez", "Roux", "Fournier",
    "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller",
    "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier",
    "Benali", "Haddad", "Diallo", "Traoré", "Nguyen", "Pereira", "Da Silva", "Cazals",
    "Sabatier", "Castan", "Escudier", "Fabre", "Baylac", "Puech", "Rouquette", "Salvan",
)
STREETS = (
    "rue de la République", "avenue de Muret", "rue des Lois", "boulevard de Strasbourg",
    "chemin de Lardenne", "rue du Taur", "avenue de Lombez", "rue Bayard",
    "allée de Bellefontaine", "rue de Négreneys", "avenue de Lardenne", "place du Mirail",
)
POSTAL_CODES = ("31000", "31100", "31200", "31300", "31400", "31500")

#: Employment situations and their weights (seed: precarious contracts and benefits).
EMPLOYMENT = (
    ("cdd", 0.22), ("interim", 0.16), ("part_time", 0.16), ("minimum_benefits", 0.16),
    ("cdi", 0.12), ("unemployed", 0.08), ("student", 0.04), ("retired", 0.03),
    ("self_employed", 0.02), ("other", 0.01),
)


def _weighted(rng: random.Random, shares) -> str:
    """A key of ``shares`` drawn by weight (the weights need not add up to 1)."""
    draw, total = rng.random() * sum(w for _k, w in shares), 0.0
    for key, weight in shares:
        total += weight
        if draw < total:
            return key
    return shares[-1][0]


#: Employment situations by age: no student past 30, nobody retired before 60.
_EMPLOYMENT_BY_AGE = {
    (student, retired): tuple((k, w) for k, w in EMPLOYMENT
                              if (student or k != "student") and (retired or k != "retired"))
    for student in (False, True) for retired in (False, True)
}


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def born_aged(rng: random.Random, age: int, on: date) -> date:
    """A birth date of someone ``age`` years old on ``on`` (any day of that year of age)."""
    latest = on.replace(year=on.year - age) if (on.month, on.day) != (2, 29) \
        else date(on.year - age, 2, 28)
    return latest - timedelta(days=rng.randint(0, 364))


def birth_date(rng: random.Random, on: date) -> date:
    """Mostly under 35 (seed document), some older."""
    age = rng.randint(19, 34) if rng.random() < 0.62 else rng.randint(35, 68)
    return born_aged(rng, age, on)


@dataclass(frozen=True)
class Member:
    """Someone living with the applicant (``core.models.HouseholdMember``)."""

    first_name: str
    birth_date: date
    relationship: str  # "spouse", "partner" or "child"
    #: A partner's own surname (``None``: the applicant's, as a spouse's or a child's).
    last_name: str | None = None


def household_of(rng: random.Random, age: int, intake: date) -> tuple[Member, ...]:
    """The household of an applicant ``age`` years old on ``intake``: a spouse or
    partner of about the same age in a third of the homes, and children born when the
    applicant was 18 to 45."""
    members = []
    if rng.random() < 0.35:
        other = min(75, max(ADULT_AGE, age + rng.randint(-6, 6)))
        married = rng.random() < 0.5
        members.append(Member(rng.choice(FIRST_NAMES), born_aged(rng, other, intake),
                              "spouse" if married else "partner",
                              None if married else rng.choice(LAST_NAMES)))
    youngest, eldest = max(0, age - 45), min(ADULT_AGE - 1, age - ADULT_AGE)
    for _ in range(rng.choice((0, 0, 1, 1, 2, 3)) if youngest <= eldest else 0):
        members.append(Member(rng.choice(FIRST_NAMES),
                              born_aged(rng, rng.randint(youngest, eldest), intake), "child"))
    return tuple(members)


def counts_on(members: tuple[Member, ...], day: date) -> tuple[int, list[int]]:
    """``(adults, children_ages)`` of the applicant and ``members`` on ``day``, as
    ``core.cases.household.counts`` keeps them when members are recorded."""
    ages = [age_on(m.birth_date, day) for m in members]
    return (1 + sum(1 for a in ages if a >= ADULT_AGE),
            sorted(a for a in ages if a < ADULT_AGE))


def email_of(first: str, last: str) -> str:
    """``prenom.nom@exemple.fr`` without accents or spaces (``exemple.fr`` is reserved
    for examples: nothing is ever delivered there)."""
    text = unicodedata.normalize("NFKD", f"{first}.{last}".lower().replace(" ", ""))
    return text.encode("ascii", "ignore").decode() + "@exemple.fr"


#: The least charges of a household's budget (rent, energy, insurance, phone,
#: transport at their lowest in :mod:`core.demo.evaluation`), with a margin.
LEAST_CHARGES = Decimal(700)


def least_resources(adults: int, children_ages: list[int], instalment: Decimal) -> Decimal:
    """The resources a household needs to bear ``instalment`` a month: the budget's
    floor per consumption unit (``core.cases.budget``), its least charges and the
    instalment."""
    units = budget.consumption_units(adults, children_ages)
    reserve = budget.DEFAULT_MIN_REMAINING_PER_UNIT_PER_DAY * budget.DAYS_PER_MONTH * units
    return (reserve + LEAST_CHARGES + instalment).quantize(Decimal(1))


def person_values(rng: random.Random, intake: date, today: date | None = None,
                  instalment: Decimal | None = None) -> dict:
    """The columns of one applicant (``core.models.Person``), without ids or times, and
    under ``"household"`` the members of the household (:class:`Member`, to write as
    ``HouseholdMember`` rows; not a column). The household line (``adults``,
    ``children_ages``) is what the members give on ``today`` (the intake's day by
    default), as the household page keeps it. ``instalment``: a loan's monthly
    instalment the person's resources bear (a loan granted), see
    :func:`least_resources`."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    born = birth_date(rng, intake)
    age = age_on(born, intake)
    household = household_of(rng, age, intake)
    children = sum(1 for m in household if m.relationship == "child")
    adults, children_ages = counts_on(household, today or intake)
    employment = _weighted(rng, _EMPLOYMENT_BY_AGE[age <= 30, age >= 60])
    base = {"cdi": 1550, "cdd": 1300, "interim": 1150, "part_time": 950,
            "minimum_benefits": 700, "unemployed": 900, "student": 650, "retired": 1100,
            "self_employed": 1000, "other": 800}[employment]
    earners = 1 + sum(1 for m in household if m.relationship != "child")
    resources = Decimal(base * earners + 120 * children + rng.randint(-150, 250))
    if instalment is not None:
        resources = max(resources, least_resources(adults, children_ages, instalment)
                        + rng.randint(0, 200))
    return {
        "first_name": first, "last_name": last, "birth_date": born,
        "phone": f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
                 f"{rng.randint(10, 99)}",
        "email": email_of(first, last) if rng.random() < 0.6 else None,
        "address": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
        "postal_code": rng.choice(POSTAL_CODES), "city": "Toulouse",
        "adults": adults, "children_ages": children_ages, "employment": employment,
        "monthly_resources": resources.quantize(Decimal("0.01")),
        "household": household,
    }
