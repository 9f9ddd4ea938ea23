"""People the CCAS knows only through partners' referrals (RGPD subject rights).

A referral that never became a case (no ``case_id``: declined, expired, still unanswered,
or accepted by a partner organisation; no ``source_case_id``: not a case's reorientation)
belongs to no ``Person`` row, yet holds the person's names, birth date, contact details,
the referrer's note, the receiving plugin's fields, attachments and status messages.

The same person is often referred more than once (to the CAF and to the CCAS, referred
again after a decline). For the person's rights (access, erasure) their referrals are taken
together: the referrals without case, not anonymised, with the same names (case and spaces
ignored) and the same birth date (:func:`same_person`). The referrals that belong to a
person's file (``case_id`` or ``source_case_id``) follow that person (``linked_person``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select

from ..models import Case, Person, Referral
from .registry import ANONYMISED

#: At most this many referral rows are read for one search (grouped by person after).
SEARCH_ROWS = 500


def without_case():
    """SQL condition: a referral that never became a case and is not anonymised."""
    return and_(Referral.case_id.is_(None), Referral.source_case_id.is_(None),
                or_(Referral.first_name != ANONYMISED, Referral.last_name != ANONYMISED))


def is_anonymised(referral: Referral) -> bool:
    return referral.first_name == ANONYMISED and referral.last_name == ANONYMISED


def has_case(referral: Referral) -> bool:
    return referral.case_id is not None or referral.source_case_id is not None


def _name(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


def identity(referral: Referral) -> tuple:
    """The key under which referrals are taken as the same person's."""
    return _name(referral.last_name), _name(referral.first_name), referral.birth_date


def last_activity(referral: Referral) -> datetime:
    """The referral's last activity (its retention clock, ``purge.referral_past_retention``)."""
    return max(d for d in (referral.updated_at, referral.status_changed_at,
                           referral.created_at, referral.reminded_at) if d is not None)


@dataclass
class ReferredPerson:
    """One person known only through ``referrals`` (oldest first)."""

    referrals: list[Referral]

    @property
    def latest(self) -> Referral:
        """The referral with the latest activity: the one the search links to."""
        return max(self.referrals, key=last_activity)

    @property
    def first_name(self) -> str:
        return self.latest.first_name

    @property
    def last_name(self) -> str:
        return self.latest.last_name

    @property
    def birth_date(self) -> date | None:
        return self.latest.birth_date

    @property
    def last_activity(self) -> datetime:
        return last_activity(self.latest)


def _group(rows) -> list[ReferredPerson]:
    groups: dict[tuple, list[Referral]] = {}
    for referral in rows:
        groups.setdefault(identity(referral), []).append(referral)
    people = [ReferredPerson(sorted(refs, key=lambda r: (r.created_at, r.id)))
              for refs in groups.values()]
    return sorted(people, key=lambda p: (_name(p.last_name), _name(p.first_name),
                                         p.birth_date or date.min))


def search(session, *, pattern: str | None = None, born: date | None = None,
           limit: int = 50) -> list[ReferredPerson]:
    """People known only through referrals whose last or first name is ``LIKE`` the
    lowered ``pattern`` (escaped with ``\\``), or born on ``born``; at most ``limit``."""
    if pattern is None and born is None:
        return []
    stmt = select(Referral).where(without_case())
    if born is not None:
        stmt = stmt.where(Referral.birth_date == born)
    else:
        stmt = stmt.where(or_(func.lower(Referral.last_name).like(pattern, escape="\\"),
                              func.lower(Referral.first_name).like(pattern, escape="\\")))
    rows = session.scalars(stmt.order_by(Referral.last_name, Referral.first_name,
                                         Referral.created_at).limit(SEARCH_ROWS)).all()
    return _group(rows)[:limit]


def same_person(session, referral: Referral) -> list[Referral]:
    """``referral`` and the other referrals without case of the same person (same names,
    case and spaces ignored, same birth date), oldest first. A referral of a person's
    file, or an anonymised one, stands alone."""
    if has_case(referral) or is_anonymised(referral):
        return [referral]
    same_birth = (Referral.birth_date == referral.birth_date
                  if referral.birth_date is not None else Referral.birth_date.is_(None))
    # Narrowed in SQL by the birth date only (every referral is sent with one), the names
    # compared in Python: SQLite's lower() knows ASCII only, and spaces are ignored.
    candidates = session.scalars(select(Referral).where(without_case(), same_birth)).all()
    key = identity(referral)
    found = {r.id: r for r in candidates if identity(r) == key}
    found[referral.id] = referral
    return sorted(found.values(), key=lambda r: (r.created_at, r.id))


def linked_person(session, referral: Referral) -> Person | None:
    """The person whose file the referral belongs to: the case it opened, or the case
    whose reorientation created it."""
    case_id = referral.case_id or referral.source_case_id
    if case_id is None:
        return None
    return session.scalar(select(Person).join(Case, Case.person_id == Person.id)
                          .where(Case.id == case_id))
