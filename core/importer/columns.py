"""The import's columns: French header names and their aliases, and the parsing of each
value (dates, purposes, decisions, employment situations, amounts). Pure functions that
raise :class:`ValueProblem` with a French message."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from ..workflow.reasons import CORE_DESTINATIONS


class ValueProblem(ValueError):
    """A cell that cannot be read; the message is French and names the value."""


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise(text) -> str:
    """Lowercase, no accents, punctuation and underscores as single spaces."""
    return _normalise(str(text or ""))


@lru_cache(maxsize=65536)
def _normalise(text: str) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", text.lower()).strip()


#: Canonical column -> accepted header names (compared after :func:`normalise`).
COLUMNS: dict[str, tuple[str, ...]] = {
    "reference": ("reference", "ref", "n dossier", "no dossier", "num dossier", "numero",
                  "numero de dossier", "numero dossier", "dossier", "n"),
    "date_demande": ("date demande", "date de la demande", "date de demande", "date",
                     "date d accueil", "date accueil", "date recueil", "date fiche recueil",
                     "date d appel", "date appel"),
    "nom": ("nom", "nom de famille", "nom du demandeur", "nom demandeur"),
    "prenom": ("prenom", "prenom du demandeur", "prenom demandeur"),
    "date_naissance": ("date naissance", "date de naissance", "ne le", "nee le", "naissance",
                       "ne e le"),
    "objet": ("objet", "objet de la demande", "objet du pret", "objet demande", "motif",
              "projet", "objet du projet"),
    "montant_demande": ("montant demande", "montant", "montant sollicite",
                        "montant de la demande", "montant demande eur"),
    "situation_professionnelle": ("situation professionnelle", "situation pro", "situation",
                                  "emploi", "statut", "statut professionnel"),
    "orientation": ("orientation", "reorientation", "reoriente vers", "orientation vers",
                    "orientee vers", "oriente vers"),
    "date_instruction": ("date instruction", "date d instruction", "date de l instruction",
                         "instruction", "date instruite"),
    "date_decision": ("date decision", "date de decision", "date de la decision",
                      "date comite", "date du comite"),
    "decision": ("decision", "avis", "resultat", "decision du preteur"),
    "montant_accorde": ("montant accorde", "montant du pret", "montant pret",
                        "montant accorde eur", "pret accorde"),
    "duree_mois": ("duree mois", "duree", "duree en mois", "nombre de mois", "duree du pret",
                   "nb mois"),
}
REQUIRED = ("date_demande", "nom", "objet", "montant_demande")

#: French labels of the columns, for managers (docs and the upload page).
COLUMN_LABELS = {
    "reference": "Référence du dossier (facultatif ; sinon une empreinte de la ligne)",
    "date_demande": "Date de la demande (obligatoire)",
    "nom": "Nom (obligatoire)",
    "prenom": "Prénom",
    "date_naissance": "Date de naissance",
    "objet": "Objet (obligatoire) : mobilité, logement, dettes, formation, équipement "
             "ménager, santé, emploi, autre",
    "montant_demande": "Montant demandé en euros (obligatoire)",
    "situation_professionnelle": "Situation professionnelle : CDI, CDD, intérim, temps "
                                 "partiel, demandeur d'emploi, minima sociaux, retraité, "
                                 "étudiant, indépendant, autre",
    "orientation": "Orientation : où la demande a été réorientée, le cas échéant",
    "date_instruction": "Date d'instruction",
    "date_decision": "Date de la décision",
    "decision": "Décision : accordé, refusé, ajourné ou vide",
    "montant_accorde": "Montant accordé en euros (si accordé)",
    "duree_mois": "Durée du prêt en mois (si accordé)",
}

_ALIASES = {normalise(alias): canonical
            for canonical, aliases in COLUMNS.items()
            for alias in (canonical, *aliases)}


def match_headers(headers: list[str]) -> tuple[dict[str, int], list[str]]:
    """``({canonical column: index}, [ignored headers])``; the first matching header wins."""
    found: dict[str, int] = {}
    ignored = []
    for index, header in enumerate(headers):
        canonical = _ALIASES.get(normalise(header))
        if canonical is None or canonical in found:
            if header.strip():
                ignored.append(header)
            continue
        found[canonical] = index
    return found, ignored


# -- values ---------------------------------------------------------------------------------

_DATE_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
     ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?$"),
     ("d", "m", "y")),
)


def parse_date(value) -> date | None:
    """ISO ``2019-02-28`` or French ``28/02/2019`` (also ``-`` or ``.``); XLSX dates as
    they are; empty -> ``None``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return _parse_date_text(str(value).strip())


@lru_cache(maxsize=65536)
def _parse_date_text(text: str) -> date:
    for pattern, order in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
            try:
                return date(parts["y"], parts["m"], parts["d"])
            except ValueError as exc:
                raise ValueProblem(f"date inexistante « {text} »") from exc
    raise ValueProblem(f"date illisible « {text} » (attendu AAAA-MM-JJ ou JJ/MM/AAAA)")


def parse_amount(value) -> Decimal | None:
    """``1 200,50``, ``1200.5``, ``1.200,50 €`` -> ``Decimal``; positive, 2 decimals at
    most, at most 1,000,000; empty -> ``None``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueProblem(f"montant illisible « {value} »")
    if isinstance(value, (int, Decimal)):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    else:
        return _parse_amount_text(str(value).strip())
    return _check_amount(amount, value)


@lru_cache(maxsize=65536)
def _parse_amount_text(value: str) -> Decimal:
    text = value
    for junk in ("\u202f", "\u00a0", " ", "€", "EUR", "eur"):
        text = text.replace(junk, "")
    if "," in text and "." in text:
        text = text.replace(".", "")
    text = text.replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ValueProblem(f"montant illisible « {value} »") from exc
    return _check_amount(amount, value)


def _check_amount(amount: Decimal, value) -> Decimal:
    if not amount.is_finite():
        raise ValueProblem(f"montant illisible « {value} »")
    if amount <= 0:
        raise ValueProblem(f"le montant doit être positif (« {value} »)")
    if amount > Decimal("1000000"):
        raise ValueProblem(f"montant trop élevé « {value} »")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueProblem(f"deux décimales au plus (« {value} »)")
    return amount.quantize(Decimal("0.01"))


def parse_months(value) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = normalise(value).replace(" mois", "").strip()
    try:
        number = Decimal(text.replace(" ", ""))
    except InvalidOperation as exc:
        raise ValueProblem(f"durée illisible « {value} »") from exc
    if number != number.to_integral_value() or not (1 <= number <= 120):
        raise ValueProblem(f"durée en mois entière entre 1 et 120 attendue (« {value} »)")
    return int(number)


def _table(mapping: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {normalise(alias): code for code, aliases in mapping.items()
            for alias in (code, *aliases)}


PURPOSE_WORDS = _table({
    "mobility": ("mobilite", "vehicule", "voiture", "achat vehicule", "achat de vehicule",
                 "reparation vehicule", "reparation voiture", "permis", "permis de conduire",
                 "transport", "scooter", "moto", "deux roues", "velo", "auto"),
    "housing": ("logement", "acces au logement", "acces logement", "caution",
                "depot de garantie", "demenagement", "loyer", "installation"),
    "debts": ("dettes", "dette", "rachat de dettes", "endettement", "impayes", "impaye",
              "apurement", "apurement de dettes", "regularisation de dettes"),
    "training": ("formation", "education", "etudes", "education et formation",
                 "education formation", "scolarite", "formation professionnelle"),
    "household_equipment": ("equipement menager", "equipement", "electromenager",
                            "electro menager", "mobilier", "equipement de la maison",
                            "equipement du logement", "menager", "ameublement"),
    "health": ("sante", "soins", "frais medicaux", "soins dentaires", "dentaire", "optique",
               "lunettes", "appareil auditif", "frais de sante"),
    "employment": ("emploi", "insertion professionnelle", "acces a l emploi",
                   "acces emploi", "recherche d emploi", "insertion"),
    "other": ("autre", "autres", "divers"),
})

DECISION_WORDS = _table({
    "granted": ("accorde", "accordee", "accord", "oui", "favorable", "pret accorde",
                "avis favorable"),
    "refused": ("refuse", "refusee", "refus", "non", "defavorable", "avis defavorable"),
    "adjourned": ("ajourne", "ajournee", "ajournement", "reporte", "report"),
})

EMPLOYMENT_WORDS = _table({
    "cdi": ("contrat a duree indeterminee",),
    "cdd": ("contrat a duree determinee", "contrat court"),
    "interim": ("interimaire", "travail temporaire", "interim"),
    "part_time": ("temps partiel", "partiel", "mi temps"),
    "unemployed": ("demandeur d emploi", "demandeuse d emploi", "chomage", "chomeur",
                   "chomeuse", "sans emploi", "recherche d emploi", "pole emploi",
                   "france travail"),
    "minimum_benefits": ("minima sociaux", "minimas sociaux", "rsa", "aah", "ass",
                         "beneficiaire du rsa", "allocataire rsa"),
    "retired": ("retraite", "retraitee", "pension de retraite"),
    "student": ("etudiant", "etudiante", "apprenti", "apprentie", "alternance"),
    "self_employed": ("independant", "independante", "auto entrepreneur",
                      "micro entrepreneur", "artisan", "commercant"),
    "other": ("autre", "autres", "divers"),
})


def _lookup(table: dict[str, str], value, unknown: str) -> str | None:
    if value is None or not str(value).strip():
        return None
    key = normalise(value)
    if key in table:
        return table[key]
    head = key.split(" (")[0]
    for candidate in (re.split(r"\s*[(/,;-]", str(value))[0], head):
        code = table.get(normalise(candidate))
        if code:
            return code
    raise ValueProblem(f"{unknown} « {str(value).strip()} »")


def parse_purpose(value) -> str | None:
    return _lookup(PURPOSE_WORDS, value, "objet inconnu")


def parse_decision(value) -> str | None:
    return _lookup(DECISION_WORDS, value,
                   "décision inconnue (accordé, refusé, ajourné ou vide)")


def parse_employment(value) -> str | None:
    return _lookup(EMPLOYMENT_WORDS, value, "situation professionnelle inconnue")


def destination_code(value, known: dict[str, str] | None = None) -> str | None:
    """A reorientation destination: a known code (core or plugin), the code of a known
    label, else the text as a code (``Secours Catholique`` -> ``secours_catholique``)."""
    if value is None or not str(value).strip():
        return None
    codes, by_label = _destination_tables(tuple(sorted((known or {}).items())))
    slug = normalise(value).replace(" ", "_")[:80]
    if slug in codes:
        return slug
    return by_label.get(normalise(value), slug)


@lru_cache(maxsize=32)
def _destination_tables(extra: tuple) -> tuple[frozenset, dict]:
    known = dict(CORE_DESTINATIONS, **dict(extra))
    return frozenset(known), {normalise(label): code for code, label in known.items()}


def text(value, limit: int) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    out = str(value).strip()
    if len(out) > limit:
        raise ValueProblem(f"{limit} caractères au plus")
    return out
