"""The people of the demonstration: applicants shaped on the seed document (mostly under
35, on fixed-term, temp or part-time contracts, or on minimum social benefits). PURE
apart from the ids drawn from the generator."""

from __future__ import annotations

import random
import unicodedata
from datetime import date, timedelta
from decimal import Decimal

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
    draw, total = rng.random(), 0.0
    for key, weight in shares:
        total += weight
        if draw < total:
            return key
    return shares[-1][0]


def birth_date(rng: random.Random, on: date) -> date:
    """Mostly under 35 (seed document), some older."""
    age = rng.randint(19, 34) if rng.random() < 0.62 else rng.randint(35, 68)
    return on - timedelta(days=age * 365 + rng.randint(0, 364))


def email_of(first: str, last: str) -> str:
    """``prenom.nom@exemple.fr`` without accents or spaces (``exemple.fr`` is reserved
    for examples: nothing is ever delivered there)."""
    text = unicodedata.normalize("NFKD", f"{first}.{last}".lower().replace(" ", ""))
    return text.encode("ascii", "ignore").decode() + "@exemple.fr"


def person_values(rng: random.Random, intake: date) -> dict:
    """The columns of one applicant (``core.models.Person``), without ids or times."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    adults = 2 if rng.random() < 0.35 else 1
    children = [rng.randint(0, 17) for _ in range(rng.choice((0, 0, 1, 1, 2, 3)))]
    employment = _weighted(rng, EMPLOYMENT)
    base = {"cdi": 1550, "cdd": 1300, "interim": 1150, "part_time": 950,
            "minimum_benefits": 700, "unemployed": 900, "student": 650, "retired": 1100,
            "self_employed": 1000, "other": 800}[employment]
    resources = Decimal(base * adults + 120 * len(children) + rng.randint(-150, 250))
    return {
        "first_name": first, "last_name": last, "birth_date": birth_date(rng, intake),
        "phone": f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
                 f"{rng.randint(10, 99)}",
        "email": email_of(first, last) if rng.random() < 0.6 else None,
        "address": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
        "postal_code": rng.choice(POSTAL_CODES), "city": "Toulouse",
        "adults": adults, "children_ages": children, "employment": employment,
        "monthly_resources": resources.quantize(Decimal("0.01")),
    }
