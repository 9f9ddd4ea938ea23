"""Referrals of the demonstration, from and to the partners, in every status.

* Incoming and accepted: each request a partner referred (``Story.referrer``) came as a
  referral that the CCAS accepted the day the case was opened; its status then mirrors
  the case's milestones as ``core.referrals`` does (en évaluation, transmise au prêteur,
  accordé, refusé, réorientée, abandonnée, clôturée).
* Incoming not accepted: declined with a coded reason, expired without an answer after 30
  days, or still waiting (sent, received) when recent.
* Outgoing: each case reoriented to a partner organisation is a referral from the CCAS to
  it, answered (accepted, declined), expired, or still waiting.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from ..models import Referral, ReferralStatusChange
from ..referrals import CASE_MILESTONES, DEFAULT_EXPIRE_AFTER_DAYS, OUTCOME_STATUS
from ..workflow.reasons import DEFAULTS as REASONS
from .cases import Made, instant
from .cast import Cast
from .people import person_values
from .rows import Rows
from .stories import pick


def mirrored(state: str, flow) -> str | None:
    """The status a referral shows when its case reaches ``state`` (as
    ``core.referrals`` mirrors it): a milestone's, or a terminal state's outcome."""
    status = CASE_MILESTONES.get(state)
    if status is None and flow.is_terminal(state):
        status = OUTCOME_STATUS.get(flow.outcome(state))
    return str(status) if status is not None else None


def current_status(story, flow) -> str:
    """The status a referral of ``story``'s case shows today (``accepted`` until the
    case reaches a milestone)."""
    status = "accepted"
    for step in story.steps:
        status = mirrored(step.target, flow) or status
    return status


#: What a referral's note says the loan is for, by purpose.
PURPOSE_PHRASES = {
    "mobility": "sa mobilité (véhicule, permis)", "housing": "son logement",
    "debts": "solder des dettes", "training": "une formation",
    "household_equipment": "l'équipement du logement", "health": "des soins",
    "employment": "l'équipement nécessaire à son emploi", "other": "une dépense imprévue",
}


def note_of(plugin_name: str | None, purpose: str, children: int) -> str:
    """The referring partner's note on a referral: its own words, on the person's
    purpose (and a family only with children)."""
    phrase = PURPOSE_PHRASES.get(purpose, PURPOSE_PHRASES["other"])
    if plugin_name == "caf":
        return (f"{'Famille allocataire' if children else 'Allocataire'} ; besoin d'un "
                f"prêt pour {phrase}.")
    if plugin_name == "secours_catholique":
        return f"Personne accompagnée par notre antenne ; besoin d'un prêt pour {phrase}."
    if plugin_name == "adie":
        return f"Projet personnel ({phrase}) hors champ du microcrédit professionnel."
    if plugin_name == "credit_municipal":
        return ("Personne venue au guichet du Crédit Municipal, orientée vers le CCAS pour "
                "l'accompagnement.")
    return ""


DECLINE_MESSAGES = {
    "out_of_territory": "La personne réside hors de Toulouse.",
    "duplicate": "Une demande est déjà en cours pour cette personne.",
    "not_eligible": "Le projet ne relève pas du microcrédit personnel.",
    "incomplete": "Merci de préciser le projet et les ressources.",
    "consent_missing": "Le consentement de la personne n'est pas établi.",
}


class _Referrals:
    def __init__(self, rows: Rows, cast: Cast, zone: ZoneInfo):
        self.rows, self.cast, self.zone = rows, cast, zone
        self.referrer_labels: dict[str, str] = {}
        for user in cast.users.values():
            self.referrer_labels.setdefault(str(user.organisation_id), f"user:{user.email}")

    def label_of(self, org) -> str:
        return self.referrer_labels.get(str(org.id), org.name)

    def add(self, from_org, to_org, person: dict, purpose: str, amount, moves,
            **values) -> None:
        """One referral with its history ``moves``: ``[(status, day, reason, message)]``."""
        rows = self.rows
        referral_id = rows.new_id()
        ats = [instant(day, 15 + 23 * i, self.zone) for i, (_s, day, _r, _m) in
               enumerate(moves)]
        status, *_ = moves[-1]
        decline = next((r for s, _d, r, _m in moves if s == "declined"), None)
        outcome = next((r for s, _d, r, _m in moves if s == "done"), None)
        sender = self.label_of(from_org)
        rows.add(Referral, id=referral_id, from_organisation_id=from_org.id,
                 to_organisation_id=to_org.id,
                 created_by_id=self._user_of(from_org),
                 first_name=person["first_name"], last_name=person["last_name"],
                 birth_date=person["birth_date"], phone=person["phone"],
                 email=person["email"], purpose=purpose, amount_requested=amount,
                 consent=True, consent_at=ats[0],
                 consent_by=f"{sender} (accord de la personne recueilli par téléphone)",
                 consent_method="in_person" if from_org.id == self.cast.ccas.id
                 else "referrer",
                 extra={}, status=status, decline_reason=decline, outcome=outcome,
                 created_at=ats[0],
                 updated_at=ats[-1], status_changed_at=ats[-1], **values)
        previous = None
        for (new, _day, reason, message), at in zip(moves, ats, strict=True):
            actor = sender if new == "sent" else self.label_of(to_org) \
                if new in ("received", "accepted", "declined", "in_progress", "done") \
                else "système"
            rows.add(ReferralStatusChange, referral_id=referral_id, from_status=previous,
                     to_status=new, at=at, actor_label=actor, reason_code=reason,
                     message=message)
            previous = new

    def _user_of(self, org):
        return next((u.id for u in self.cast.users.values() if u.organisation_id == org.id),
                    None)


def _answer(rng, sent: date, today: date) -> list:
    """The receiving organisation's answer to a referral sent on ``sent``."""
    moves = [("sent", sent, None, "")]
    age = (today - sent).days
    if age <= 3:
        return moves
    received = sent + timedelta(days=rng.randint(1, 3))
    moves.append(("received", received, None, ""))
    if age <= 10:
        return moves
    draw = rng.random()
    if draw < 0.15 and age > DEFAULT_EXPIRE_AFTER_DAYS:
        moves.append(("expired", sent + timedelta(days=DEFAULT_EXPIRE_AFTER_DAYS), None, ""))
    elif draw < 0.45:
        reason = rng.choice(list(REASONS["decline"]))
        moves.append(("declined", received + timedelta(days=rng.randint(1, 6)), reason,
                      DECLINE_MESSAGES.get(reason, "")))
    else:
        accepted = received + timedelta(days=rng.randint(1, 6))
        moves.append(("accepted", accepted, None, ""))
        # the partner reports its progress, then what came of it (coded outcome)
        started = accepted + timedelta(days=rng.randint(2, 8))
        if started <= today and rng.random() < 0.8:
            moves.append(("in_progress", started, None, ""))
            ended = started + timedelta(days=rng.randint(5, 25))
            if ended <= today and rng.random() < 0.8:
                outcome = rng.choice(list(REASONS["outcome"]))
                moves.append(("done", ended, outcome, ""))
    return moves


def add(rows: Rows, made: list[Made], cast: Cast, today: date, zone: ZoneInfo,
        flow) -> None:
    rng = rows.rng
    referrals = _Referrals(rows, cast, zone)
    partners = cast.partners
    for item in made:
        story = item.story
        org = partners.get(story.referrer) if story.referrer else None
        if org is not None:
            _incoming_accepted(rng, referrals, item, org, cast, flow)
        destination = next((s for s in story.steps if s.destination), None)
        if destination is not None and destination.destination.startswith("partner:"):
            to_org = partners.get(destination.destination.removeprefix("partner:"))
            if to_org is not None:
                moves = _answer(rng, destination.day, today)
                referrals.add(cast.ccas, to_org, item.person, story.purpose, story.amount,
                              moves, source_case_id=item.case.id,
                              note="Réorientation par le CCAS.")


def add_unanswered(rows: Rows, cast: Cast, today: date, zone: ZoneInfo,
                   requests: int) -> None:
    """Referrals the CCAS declined or let expire, and the ones waiting today (about one
    for 15 requests)."""
    _incoming_unanswered(rows.rng, _Referrals(rows, cast, zone), cast, today, requests)


def _incoming_accepted(rng, referrals: _Referrals, item: Made, org, cast: Cast,
                       flow) -> None:
    story = item.story
    opened = story.intake_date
    sent = opened - timedelta(days=rng.randint(2, 8))
    moves = [("sent", sent, None, ""),
             ("received", sent + timedelta(days=1), None, ""),
             ("accepted", opened, None, "")]
    for step in story.steps[1:]:
        status = mirrored(step.target, flow)
        if status is not None and status != moves[-1][0]:
            moves.append((status, step.day, None, ""))
    referrals.add(org, cast.ccas, item.person, story.purpose, story.amount, moves,
                  case_id=item.case.id, note=note_of(
                      org.plugin_name, story.purpose,
                      sum(1 for m in item.household if m.relationship == "child")))


def _incoming_unanswered(rng, referrals: _Referrals, cast: Cast, today: date,
                         requests: int) -> None:
    """Referrals the CCAS declined or let expire, and the ones waiting today."""
    senders = list(cast.partners.values())
    if not senders:
        return
    span = 700
    for n in range(max(len(senders) * 3, requests // 15)):
        org = senders[n % len(senders)]
        # the first rounds are recent (waiting), the others spread over two years
        recent = n < len(senders) * 2
        sent = today - timedelta(days=rng.randint(0, 8) if recent
                                 else rng.randint(11, span))
        moves = [("sent", sent, None, "")]
        if recent:
            if n >= len(senders):
                moves.append(("received", min(today, sent + timedelta(days=1)), None, ""))
        elif rng.random() < 0.4 and (today - sent).days > DEFAULT_EXPIRE_AFTER_DAYS:
            moves.append(("expired", sent + timedelta(days=DEFAULT_EXPIRE_AFTER_DAYS),
                          None, ""))
        else:
            reason = pick(rng, [(r, 1.0) for r in REASONS["decline"]])
            moves.append(("received", sent + timedelta(days=1), None, ""))
            moves.append(("declined", sent + timedelta(days=rng.randint(2, 8)), reason,
                          DECLINE_MESSAGES.get(reason, "")))
        person = person_values(rng, sent)
        purpose = "mobility" if rng.random() < 0.6 else "housing"
        referrals.add(org, cast.ccas, person, purpose, None, moves,
                      note=note_of(org.plugin_name, purpose, sum(
                          1 for m in person["household"] if m.relationship == "child")))
