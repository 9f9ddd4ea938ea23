"""The information notice given to the person at intake (RGPD articles 13 and 14), and the
city's record of processing (article 30) built from the registry.

The notice says who sees the file (the CCAS team, the lender once the file is submitted,
a partner only with the person's consent), why, for how long, and how to exercise one's
rights. Its text is the platform's (:data:`VERSION`) unless the tenant sets its own
(``settings["privacy"]["notice"]``: ``{"version": …, "paragraphs": […]}``). Giving it is
recorded on the case (:func:`record_given`: version and day, audited).

:func:`processing_record` turns the registry (``core.privacy.registry``, core and plugin
tables) into the record a controller keeps: one line per category of data, with its
purpose, people concerned, recipients, retention and what the purge does. Pure apart
from reading the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from .. import audit
from ..cases import local_today
from ..errors import UserError
from ..models import Case, Organisation, OrganisationKind
from . import purge
from .export import COLUMN_LABELS
from .registry import PersonalData, descriptors

VERSION = "2026-12"

ACTION_LABELS = {
    "name": "remplacé par « Anonymisé »", "blank": "effacé", "null": "effacé",
    "empty": "vidé", "birth_date": "ramené à une date de la même année (âge conservé)",
    "scrub": "mentions de la personne remplacées", "delete": "supprimé",
}


@dataclass(frozen=True)
class Notice:
    version: str
    title: str
    paragraphs: list[str]


def _settings(tenant) -> dict:
    return ((getattr(tenant, "settings", None) or {}).get("privacy") or {}).get("notice") or {}


def lenders(session) -> list[str]:
    return list(session.scalars(select(Organisation.name).where(
        Organisation.kind == OrganisationKind.lender).order_by(Organisation.name)))


def notice(session, tenant) -> Notice:
    """The notice of ``tenant`` (its own text, or the platform's filled with its names)."""
    own = _settings(tenant)
    if own.get("paragraphs"):
        return Notice(str(own.get("version") or "tenant"), "Vos données personnelles",
                      [str(p) for p in own["paragraphs"]])
    months = purge.retention_months(tenant)
    lender = ", ".join(lenders(session)) or "l'établissement prêteur partenaire"
    name = getattr(tenant, "name", "") or "le CCAS"
    return Notice(VERSION, "Vos données personnelles", [
        f"{name} enregistre les informations que vous lui donnez (identité, coordonnées, "
        "foyer, ressources et charges, projet, pièces justificatives) pour étudier votre "
        "demande de microcrédit personnel et vous accompagner pendant toute la durée du "
        "prêt. Cette mission d'action sociale est une mission d'intérêt public (RGPD, "
        "article 6-1-e).",
        "Qui voit votre dossier : l'équipe du CCAS (accueil, travailleur social, "
        f"responsable du dispositif). Le prêteur ({lender}) reçoit votre dossier "
        "(identité, budget, synthèse, pièces) quand il lui est transmis, pour décider du "
        "prêt et consulter le fichier des incidents de remboursement des crédits de la "
        "Banque de France. Un autre partenaire (association, fonds d'aide) ne reçoit vos "
        "coordonnées que si vous acceptez d'y être orienté(e).",
        f"Durée de conservation : {months} mois après notre dernier contact, et tant "
        "qu'un prêt est en cours. Ensuite, vos données sont anonymisées et les pièces "
        "déposées supprimées.",
        "Vos droits : accès, rectification, effacement, limitation et opposition. "
        f"Adressez-vous à l'accueil de {name} ou à son délégué à la protection des "
        "données. Vous pouvez aussi saisir la CNIL (www.cnil.fr).",
    ])


def record_given(session, tenant, case: Case, actor=None, on: date | None = None) -> Case:
    """Record that the notice was given to the person of ``case`` (today by default)."""
    on = on or local_today(tenant)
    if on > local_today(tenant):
        raise UserError("La date ne peut pas être dans le futur.", status=422,
                        field="notice_given_on")
    text = notice(session, tenant)
    case.notice_version, case.notice_given_on = text.version, on
    audit.record(session, "case.notice", case, actor=actor, version=text.version,
                 on=on.isoformat())
    return case


# -- the record of processing (RGPD article 30) -------------------------------------------


RECIPIENTS = "Équipe du CCAS ; prêteur après transmission du dossier ; partenaire d'orientation avec l'accord de la personne"  # noqa: E501


def _line(d: PersonalData, months: int) -> dict:
    personal = {COLUMN_LABELS.get(column, column): ACTION_LABELS.get(action, action)
                for column, action in d.personal.items()}
    return {
        "table": d.table,
        "category": d.label or d.table,
        "personal_fields": sorted(personal),
        "at_purge": personal,
        "retention": (f"{months} mois après le dernier contact"
                      + (f" ; conservé tant que {d.hold_reason}" if d.hold_reason else "")),
        "kept_while": d.hold_reason or "",
    }


def processing_record(tenant, registry: dict[str, PersonalData] | None = None) -> dict:
    """The record of processing of ``tenant`` (JSON-ready)."""
    registry = registry if registry is not None else descriptors()
    months = purge.retention_months(tenant)
    lines = [_line(d, months) for d in registry.values() if d.personal]
    return {
        "controller": getattr(tenant, "name", ""),
        "processing": "Microcrédit personnel accompagné",
        "purposes": [
            "Instruction des demandes de microcrédit personnel et accompagnement social "
            "pendant le prêt",
            "Orientation vers les partenaires, avec l'accord de la personne",
            "Bilan annuel de l'activité (données agrégées, petits effectifs masqués)",
        ],
        "legal_basis": "Mission d'intérêt public (RGPD, article 6-1-e) ; action sociale "
                       "(Code de l'action sociale et des familles)",
        "people": "Personnes demandant un microcrédit, membres de leur foyer, "
                  "co-emprunteurs, personnes orientées par les partenaires",
        "recipients": RECIPIENTS,
        "transfers_outside_eu": "Aucun",
        "retention_months": months,
        "security": "Données cloisonnées par territoire (filtrage applicatif et sécurité "
                    "au niveau des lignes PostgreSQL) ; pièces stockées hors de la racine "
                    "web, noms aléatoires ; journal d'audit des lectures et "
                    "modifications ; second facteur pour les opérateurs ; sauvegardes "
                    "avec sommes de contrôle",
        "notice_version": notice_version(tenant),
        "categories": lines,
    }


def notice_version(tenant) -> str:
    return str(_settings(tenant).get("version") or VERSION)
