"""One person across their requests: every case, referral, loan decision and
appointment, in the order they happened (the person page). Reads only; the page audits
the read."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select

from .. import workflow
from ..formats import money
from ..models import (
    PURPOSE_LABELS,
    Appointment,
    Case,
    CaseTransition,
    Person,
    Referral,
)


@dataclass(frozen=True)
class Event:
    """A line of the person's history."""

    at: datetime | date
    kind: str  # "case", "referral", "loan", "appointment"
    title: str
    detail: str
    case_id: uuid.UUID | None

    @property
    def day(self) -> date:
        return self.at.date() if isinstance(self.at, datetime) else self.at


KIND_LABELS = {"case": "Demande", "referral": "Orientation", "loan": "Prêt",
               "appointment": "Rendez-vous"}


def person_cases(session, person: Person) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.person_id == person.id)
                                .order_by(Case.intake_date, Case.created_at)))


def history(session, person: Person) -> list[Event]:
    """Every event of ``person``, newest first."""
    found = person_cases(session, person)
    by_id = {c.id: c for c in found}
    labels = workflow.current().labels()
    events: list[Event] = []
    for case in found:
        events.append(Event(
            case.intake_date, "case", f"Demande {case.reference}",
            f"{PURPOSE_LABELS.get(case.purpose, case.purpose)}, "
            f"{money(case.amount_requested)} – {labels.get(case.state, case.state)}",
            case.id))
    if by_id:
        ids = list(by_id)
        for move in session.scalars(select(CaseTransition).where(
                CaseTransition.case_id.in_(ids),
                CaseTransition.to_state.in_(("granted", "disbursed", "closed")))):
            case = by_id[move.case_id]
            data = move.data or {}
            if move.to_state == "granted":
                amount = data.get("amount_granted")
                months = data.get("months")
                detail = (f"{money(amount)} sur {months} mois" if amount and months
                          else "accordé")
                events.append(Event(move.at, "loan", f"Prêt accordé ({case.reference})",
                                    detail, case.id))
            else:
                events.append(Event(move.at, "loan", f"{labels.get(move.to_state)} "
                                    f"({case.reference})", "", case.id))
        for referral in session.scalars(select(Referral).where(or_(
                Referral.case_id.in_(ids), Referral.source_case_id.in_(ids)))):
            direction = (f"vers {referral.to_organisation.name}"
                         if referral.source_case_id in by_id
                         else f"par {referral.from_organisation.name}")
            events.append(Event(referral.created_at, "referral", f"Orientation {direction}",
                                referral.status_label,
                                referral.case_id or referral.source_case_id))
        for appointment in session.scalars(select(Appointment).where(
                Appointment.case_id.in_(ids))):
            case = by_id[appointment.case_id]
            events.append(Event(appointment.starts_at, "appointment",
                                f"{appointment.kind_label} ({case.reference})",
                                appointment.status_label, case.id))
    return sorted(events, key=lambda e: (e.day, e.kind), reverse=True)
