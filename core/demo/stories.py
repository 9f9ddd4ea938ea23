"""The life story of each demonstration request, drawn from a seeded generator. PURE.

A story is what happened to one request from the day it was taken to today: the moves of
its case (state, day, who, why), its purpose and amount, where it came from, and, when
a loan was disbursed, how the borrower repays (``fate``). The shares follow the seed
document's figures (Toulouse, 2018): purposes mobility 57 %, housing 18.5 %, debts 11.6 %,
training 4.5 %…; about 40 % of requests instructed and 12 % granted. A move whose day
would fall after ``today`` does not happen: the case waits in its state, so recent
requests are in progress and older ones are over, as in a real office. Moves fall on
weekdays (one due on a weekend waits for the Monday).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from ..features.accompaniment import add_months

#: Purposes and their shares (seed document; the rest spread over the smaller ones).
PURPOSE_SHARES: tuple[tuple[str, float], ...] = (
    ("mobility", 0.57), ("housing", 0.18), ("debts", 0.12), ("training", 0.045),
    ("household_equipment", 0.035), ("health", 0.025), ("employment", 0.015),
    ("other", 0.01),
)

#: Amount ranges (euros) by purpose, within the scheme's 300 € to 3,000 €.
AMOUNT_RANGES: dict[str, tuple[int, int]] = {
    "mobility": (600, 3000), "housing": (400, 2500), "debts": (500, 3000),
    "training": (300, 2000), "household_equipment": (300, 1500), "health": (300, 2000),
    "employment": (500, 3000), "other": (300, 1500),
}

#: Who refers people to the CCAS (partner plugin names) and how often.
REFERRERS: tuple[tuple[str, float], ...] = (
    ("caf", 0.40), ("secours_catholique", 0.30), ("adie", 0.15), ("credit_municipal", 0.15),
)

#: Where a reoriented case goes, by coded reason: a core scheme or ``partner:<plugin>``.
REORIENTATIONS: tuple[tuple[str, str, float], ...] = (
    ("legal_aid_available", "partner:caf", 0.25),
    ("professional_project", "partner:adie", 0.15),
    ("better_scheme", "partner:secours_catholique", 0.20),
    ("over_indebtedness", "commission_surendettement", 0.15),
    ("budget_support", "point_conseil_budget", 0.15),
    ("legal_aid_available", "aide_legale", 0.10),
)

#: How borrowers repay once the loan is disbursed.
FATES: tuple[tuple[str, float], ...] = (
    ("on_time", 0.66), ("late", 0.15), ("defaulted", 0.09), ("repaid_early", 0.10),
)

ABANDON_EARLY = ("no_response", "documents_missing", "project_dropped", "moved_away")
ABANDON_LATE = ("situation_changed", "other_solution", "project_dropped", "no_response")
REFUSALS = ("insufficient_capacity", "over_indebtedness", "incomplete_file",
            "insufficient_capacity", "ineligible_purpose")
ADJOURNMENTS = (
    "Justificatifs de ressources à actualiser.",
    "Dernier avis d'imposition à fournir.",
)
#: The quote the lender may ask for before deciding, by purpose.
QUOTES = {
    "mobility": "Devis du garage à fournir.",
    "housing": "Bail ou engagement de location à fournir.",
    "debts": "Plan d'apurement signé par les créanciers à fournir.",
    "training": "Devis de l'organisme de formation à fournir.",
    "household_equipment": "Devis de l'équipement à fournir.",
    "health": "Devis du praticien à fournir.",
    "employment": "Devis de l'outillage à fournir.",
    "other": "Facture ou devis à fournir.",
}


@dataclass(frozen=True)
class Step:
    """One move of the case: from ``source`` to ``target`` on ``day`` by a ``role``."""

    source: str | None
    target: str
    day: date
    role: str
    reason: str | None = None
    reason_text: str = ""
    destination: str | None = None


@dataclass
class Story:
    number: int
    intake_date: date
    purpose: str
    amount: Decimal
    months: int
    source: str
    referrer: str | None
    steps: list[Step] = field(default_factory=list)
    #: On a disbursed loan: ``on_time``, ``late``, ``defaulted`` or ``repaid_early``.
    fate: str | None = None
    #: On a defaulted loan: the instalments paid before the borrower stopped.
    paid_instalments: int | None = None

    @property
    def state(self) -> str:
        return self.steps[-1].target

    @property
    def last_day(self) -> date:
        return self.steps[-1].day

    def day_of(self, state: str) -> date | None:
        """The first day the case reached ``state`` (``None``: never)."""
        return next((s.day for s in self.steps if s.target == state), None)

    def reached(self, state: str) -> bool:
        return any(s.target == state for s in self.steps)


def pick(rng: random.Random, shares) -> str:
    """A key of ``shares`` (``(key, weight)`` pairs) drawn by weight."""
    draw, total = rng.random() * sum(w for _k, w in shares), 0.0
    for key, weight in shares:
        total += weight
        if draw < total:
            return key
    return shares[-1][0]


def amount_for(rng: random.Random, purpose: str) -> Decimal:
    low, high = AMOUNT_RANGES[purpose]
    return Decimal(rng.randrange(low, high + 1, 50))


def months_for(rng: random.Random, amount: Decimal) -> int:
    if amount <= 1000:
        return rng.choice((12, 18, 24))
    return rng.choice((24, 30, 36, 36))


class _Walk:
    """The case moving forward, day by day, never past ``today``."""

    def __init__(self, story: Story, today: date):
        self.story, self.today = story, today

    @property
    def state(self) -> str:
        return self.story.state

    def go(self, target: str, after: int, role: str, **kw) -> bool:
        day = self.story.last_day + timedelta(days=after)
        return self.at(target, day, role, **kw)

    def at(self, target: str, day: date, role: str, **kw) -> bool:
        while day.weekday() >= 5:  # the CCAS and the lender work on weekdays
            day += timedelta(days=1)
        if day > self.today:
            return False
        self.story.steps.append(Step(self.state, target, day, role, **kw))
        return True


@dataclass(frozen=True)
class Check:
    """A partner's check between the intake and the documents (a plugin's part of the
    workflow, e.g. the lender's register check): the state where the case waits for it
    and the terminal state it leads to when the check fails."""

    waiting: str
    failed: str | None


def check_of(flow) -> Check | None:
    """The check a tenant's workflow puts after the intake, if any: the target of its
    first intake option, and the terminal "refused" state reachable from there."""
    for option in flow.intake_options:
        move = flow.out_of_intake(option.transition)
        if move is None:
            continue
        failed = next((t.target for t in flow.transitions if t.source == move.target
                       and flow.is_terminal(t.target) and flow.outcome(t.target) == "refused"),
                      None)
        return Check(move.target, failed)
    return None


def draw_story(rng: random.Random, number: int, intake: date, today: date,
               check: Check | None = None) -> Story:
    """The story of request ``number`` taken on ``intake`` (see the module docstring)."""
    purpose = pick(rng, PURPOSE_SHARES)
    amount = amount_for(rng, purpose)
    source_draw = rng.random()
    source = "referral" if source_draw < 0.15 else "walk_in" if source_draw < 0.27 else "phone"
    story = Story(number, intake, purpose, amount, months_for(rng, amount), source,
                  pick(rng, REFERRERS) if source == "referral" else None)
    story.steps.append(Step(None, "intake", intake, "secretary"))
    walk = _Walk(story, today)
    _before_instruction(rng, walk, check) and _instruction(rng, walk) and _loan(rng, walk)
    return story


def _abandon(rng, walk: _Walk, after: int, reasons=ABANDON_EARLY) -> bool:
    walk.go("abandoned", after, "social_worker", reason=rng.choice(reasons))
    return False


def _reorient(rng, walk: _Walk, after: int) -> bool:
    reason = pick(rng, [(i, w) for i, (_r, _d, w) in enumerate(REORIENTATIONS)])
    code, destination, _w = REORIENTATIONS[reason]
    walk.go("reoriented", after, "social_worker", reason=code, destination=destination)
    return False


def _before_instruction(rng, walk: _Walk, check: Check | None) -> bool:
    """Intake, a partner's check if the workflow has one, the documents, the
    evaluation interviews."""
    if rng.random() < 0.02:
        return _abandon(rng, walk, rng.randint(5, 15))
    if check is not None:
        if not walk.go(check.waiting, rng.randint(0, 2), "secretary"):
            return False
        draw = rng.random()
        if draw < 0.05 and check.failed:
            walk.go(check.failed, rng.randint(1, 5), "lender_agent")
            return False
        if draw < 0.08:
            return _abandon(rng, walk, rng.randint(10, 20))
    if not walk.go("documents_requested", rng.randint(2, 6), "secretary"):
        return False
    draw = rng.random()
    if draw < 0.12:
        return _abandon(rng, walk, rng.randint(20, 40), ("documents_missing", "no_response"))
    if draw < 0.17:
        return _reorient(rng, walk, rng.randint(5, 15))
    if not walk.go("evaluation", rng.randint(7, 20), "social_worker"):
        return False
    draw = rng.random()
    if draw < 0.58:
        return walk.go("instruction", rng.randint(10, 35), "social_worker")
    if draw < 0.86:
        return _reorient(rng, walk, rng.randint(7, 30))
    return _abandon(rng, walk, rng.randint(15, 40), ABANDON_LATE)


def _instruction(rng, walk: _Walk, second: bool = False) -> bool:
    """Instruction, the lender's decision (and, once, an adjournment and its sequel)."""
    if rng.random() < 0.10:
        return _abandon(rng, walk, rng.randint(15, 30), ABANDON_LATE)
    if not walk.go("submitted_to_lender", rng.randint(7, 20), "social_worker"):
        return False
    draw = rng.random()
    granted = 0.36 if second else 0.30
    if draw < granted:
        return walk.go("granted", rng.randint(5, 15), "lender_agent")
    if second or draw < 0.83:
        walk.go("refused", rng.randint(5, 15), "lender_agent", reason=rng.choice(REFUSALS))
        return False
    if not walk.go("adjourned", rng.randint(5, 15), "lender_agent",
                   reason_text=rng.choice(ADJOURNMENTS + (QUOTES[walk.story.purpose],))):
        return False
    if rng.random() < 0.4:
        return _abandon(rng, walk, rng.randint(20, 40), ABANDON_LATE)
    if not walk.go("instruction", rng.randint(10, 25), "social_worker"):
        return False
    return _instruction(rng, walk, second=True)


def _loan(rng, walk: _Walk) -> bool:
    """Signing, withdrawal period, disbursement, repayments and the end of the loan."""
    story = walk.story
    if rng.random() < 0.03:
        return _abandon(rng, walk, rng.randint(10, 20), ("project_dropped",))
    if not walk.go("signing", rng.randint(3, 10), "social_worker"):
        return False
    if not walk.go("withdrawal_period", rng.randint(5, 12), "social_worker"):
        return False
    if rng.random() < 0.04:
        walk.go("withdrawn", rng.randint(3, 12), "social_worker")
        return False
    if not walk.go("disbursed", rng.randint(15, 18), "lender_agent"):
        return False
    disbursed = story.last_day
    story.fate = pick(rng, FATES)
    if not walk.at("repaying", add_months(disbursed, 1), "lender_agent"):
        return False
    months = story.months
    if story.fate == "repaid_early":
        paid_off = add_months(disbursed, rng.randint(max(2, months // 3), months - 2))
        walk.at("closed", paid_off, "lender_agent", reason="early_repayment")
    elif story.fate == "defaulted":
        stops = story.paid_instalments = rng.randint(2, max(3, months // 2))
        declared = add_months(disbursed, stops + 1) + timedelta(days=rng.randint(90, 150))
        walk.at("closed", declared, "lender_agent", reason="default")
    else:  # on time or late: the last instalment ends it
        walk.at("closed", add_months(disbursed, months), "lender_agent", reason="repaid")
    return True


def intake_days(rng: random.Random, first_day: date, today: date, count: int) -> list[date]:
    """``count`` intake days over ``first_day`` … ``today``, sorted: weekdays, a little
    quieter in August."""
    span = (today - first_day).days
    days = []
    while len(days) < count:
        day = first_day + timedelta(days=rng.randint(0, span))
        if day.weekday() >= 5 and rng.random() < 0.9:
            continue
        if day.month == 8 and rng.random() < 0.4:
            continue
        days.append(day)
    days.sort()
    return days


def draw_stories(rng: random.Random, first_day: date, today: date, count: int,
                 check: Check | None = None) -> list[Story]:
    """``count`` stories with intake days spread over ``first_day`` … ``today``, in
    intake order."""
    return [draw_story(rng, n, day, today, check)
            for n, day in enumerate(intake_days(rng, first_day, today, count), start=1)]


def cover_referrals(stories: list[Story], status_of) -> None:
    """Make sure a partner referred at least one case in each status a referral can
    show (``status_of(story)``: the status its referral would show today), the latest
    such case, each partner in turn."""
    partners = [name for name, _w in REFERRERS]
    groups: dict[str, list[Story]] = {}
    for story in stories:
        groups.setdefault(status_of(story), []).append(story)
    for n, (_status, group) in enumerate(sorted(groups.items())):
        if not any(s.referrer for s in group):
            group[-1].source, group[-1].referrer = "referral", partners[n % len(partners)]


def cover_states(stories: list[Story], states) -> None:
    """Make sure some case waits in each of ``states`` that a story went through: when
    none ends there, the story that reached it last stops there (its next moves have not
    happened yet). Short states (granted, signing…) are then shown too."""
    for state in states:
        if any(s.state == state for s in stories):
            continue
        passing = [s for s in stories if s.reached(state) and s.state != state]
        if not passing:
            continue
        story = max(passing, key=lambda s: (s.day_of(state), s.number))
        keep = next(i for i, step in enumerate(story.steps) if step.target == state)
        story.steps = story.steps[:keep + 1]
        if not story.reached("disbursed"):
            story.fate, story.paid_instalments = None, None
