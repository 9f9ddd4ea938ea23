"""The report's aggregations, in SQL: every figure is a ``GROUP BY`` in the database.

Each function takes the (tenant-scoped) session and a :class:`Period` and returns plain
Python data (counts keyed by category). Nothing here loops over cases: a tenant with a
million cases costs a handful of indexed aggregate queries. See ``definitions`` for what
each figure means.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    Integer,
    Numeric,
    String,
    bindparam,
    case,
    cast,
    distinct,
    extract,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)

from ..models import Case, CaseTransition, Interview, Organisation, Person, Referral
from . import definitions as d
from .delays import FIRST_INTERVIEW, StepDelay


@dataclass(frozen=True)
class Period:
    """A calendar year of the tenant: local dates for ``intake_date`` and the UTC
    instants of the local year's bounds for transition times."""

    year: int
    first_day: date
    last_day: date
    start: datetime
    end: datetime

    @classmethod
    def of(cls, year: int, timezone: str = "Europe/Paris") -> Period:
        tz = ZoneInfo(timezone or "Europe/Paris")
        start = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)
        end = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
        return cls(year, date(year, 1, 1), date(year, 12, 31), start, end)


T = CaseTransition


def _requests_of(period: Period):
    return Case.intake_date.between(period.first_day, period.last_day)


def _transitions_in(period: Period):
    return (T.at >= period.start) & (T.at < period.end)


def _dialect(session) -> str:
    return session.get_bind().dialect.name


def headline(session, period: Period) -> dict[str, int]:
    """Requests, instructions and granted of the year."""
    requests = session.scalar(select(func.count()).select_from(Case).where(_requests_of(period)))
    rows = session.execute(
        select(T.to_state, func.count(distinct(T.case_id)))
        .where(T.to_state.in_(("instruction", "granted")), _transitions_in(period))
        .group_by(T.to_state)
    ).all()
    counts = dict(rows)
    return {
        "requests": int(requests or 0),
        "instructions": int(counts.get("instruction", 0)),
        "granted": int(counts.get("granted", 0)),
    }


def purpose_counts(session, period: Period) -> dict[str, int]:
    rows = session.execute(
        select(Case.purpose, func.count()).where(_requests_of(period)).group_by(Case.purpose)
    ).all()
    return {str(purpose): int(n) for purpose, n in rows}


def interviews_per_case(session, period: Period) -> dict[int, int]:
    """``{number of interviews: cases}`` for the requests of the year that reached the
    evaluation (a count of interviews, not their time: the staff time counts that)."""
    per_case = (select(Interview.case_id, func.count().label("n"))
                .group_by(Interview.case_id).subquery())
    evaluated = select(CaseTransition.case_id).where(CaseTransition.to_state == "evaluation")
    # a literal 0, not a bound parameter: PostgreSQL sees the SELECT's and the GROUP BY's
    # coalesce() as one expression only if they are written the same
    interviews = func.coalesce(per_case.c.n, literal_column("0"))
    rows = session.execute(
        select(interviews, func.count())
        .select_from(Case)
        .outerjoin(per_case, per_case.c.case_id == Case.id)
        .where(_requests_of(period),
               or_(Case.id.in_(evaluated), per_case.c.n.is_not(None)))
        .group_by(interviews)
    ).all()
    return {int(n): int(count) for n, count in rows}


def monthly_requests(session, period: Period) -> list[int]:
    month = extract("month", Case.intake_date)
    rows = session.execute(
        select(month, func.count()).where(_requests_of(period)).group_by(month)
    ).all()
    out = [0] * 12
    for m, n in rows:
        out[int(m) - 1] = int(n)
    return out


def _age_band():
    """Age in whole years on the request date, banded (``unknown`` without a birth date)."""
    born, asked = Person.birth_date, Case.intake_date
    before_birthday = (extract("month", asked) * 100 + extract("day", asked)) < (
        extract("month", born) * 100 + extract("day", born)
    )
    age = (
        extract("year", asked) - extract("year", born) - case((before_birthday, 1), else_=0)
    )
    whens = [(born.is_(None), literal(d.AGE_UNKNOWN))]
    for key, _low, high in d.AGE_BANDS:
        if high is not None:
            whens.append((age <= high, literal(key)))
    return case(*whens, else_=literal(d.AGE_BANDS[-1][0]))


def applicants(session, period: Period) -> dict[str, dict[str, int]]:
    """The year's requests by age band and by employment situation."""
    band = _age_band().label("band")
    joined = Case.person_id == Person.id
    ages = session.execute(
        select(band, func.count()).select_from(Case).join(Person, joined)
        .where(_requests_of(period)).group_by(band)
    ).all()
    jobs = session.execute(
        select(Person.employment, func.count()).select_from(Case).join(Person, joined)
        .where(_requests_of(period)).group_by(Person.employment)
    ).all()
    return {
        "age": {str(k): int(n) for k, n in ages},
        "employment": {(str(k) if k is not None else "unknown"): int(n) for k, n in jobs},
    }


def _elapsed_days(session, earlier, later):
    """Days elapsed between two instants, rounded to the nearest whole day (so a move across
    a daylight-saving change still counts whole days), portable."""
    if _dialect(session) == "postgresql":
        return cast(func.floor(extract("epoch", later - earlier) / 86400 + 0.5), Integer)
    return cast(func.round(func.julianday(later) - func.julianday(earlier)), Integer)


def _reaches(mark):
    """The condition of a recorded transition reaching the workflow's milestone ``mark``
    (``Milestone.reached_by`` in SQL)."""
    if mark.mode == "to":
        return T.to_state.in_(mark.states)
    condition = T.from_state.in_(mark.states)
    if mark.towards:
        condition = condition & T.to_state.in_(mark.towards)
    return condition


def _seconds(session, instant):
    """An instant (or, for a date, its midnight UTC) as seconds on a scale common to every
    value of the same dialect: differences of two are the seconds elapsed, portable."""
    if _dialect(session) == "postgresql":
        return extract("epoch", instant)
    return func.julianday(instant) * 86400


def median_delays(session, workflow, since: date) -> list[StepDelay]:
    """The manager's median delays (``core.reports.delays.median_delays``, computed in the
    database): for each step of the tenant's ``workflow``, the median days between the
    first time a case reached each end, over the cases opened since ``since`` that reached
    both; the first interview is reached on the day of the first recorded interview
    (noon UTC) when that is earlier than the move. One query; the median is the middle
    value (the mean of the two middle ones) by a window function, on both databases."""
    steps = workflow.delays()
    stmt = _median_delays_select(_dialect(session), workflow.milestones, steps)
    rows = session.execute(stmt, {"since": since}).all()
    found = {step: (float(seconds), int(n)) for step, seconds, n in rows}
    out = []
    for key, start, end, label in steps:
        seconds, n = found.get(key, (None, 0))
        median = None if seconds is None else round(round(seconds, 3) / 86400, 1)
        out.append(StepDelay(start, end, label, median, n))
    return out


@functools.lru_cache(maxsize=64)
def _median_delays_select(dialect: str, marks, steps):
    """The statement of :func:`median_delays` for a dialect and a workflow's milestones
    and steps (frozen tuples, so a key): built once per process, the date a parameter
    (``:since``). Building it took longer than running it on the dashboard (a column per
    milestone, a branch per step); the tenant's criteria are still added at each
    execution, as to any ORM statement."""
    def seconds(instant):
        if dialect == "postgresql":
            return extract("epoch", instant)
        return func.julianday(instant) * _inline(86400)

    def reaches(mark):  # _reaches, the workflow's codes written in the statement
        codes = [_inline(code) for code in mark.states]
        if mark.mode == "to":
            return T.to_state.in_(codes)
        condition = T.from_state.in_(codes)
        if mark.towards:
            condition = condition & T.to_state.in_([_inline(c) for c in mark.towards])
        return condition

    recent = select(Case.id).where(Case.intake_date >= bindparam("since", type_=Date))
    reached = (
        select(T.case_id, *(func.min(seconds(T.at)).filter(reaches(mark))
                            .label(mark.key) for mark in marks))
        .where(T.case_id.in_(recent)).group_by(T.case_id).cte("reached"))
    first = (select(Interview.case_id, func.min(Interview.held_on).label("held_on"))
             .where(Interview.case_id.in_(recent)).group_by(Interview.case_id)
             .subquery("first_interview"))
    interview = seconds(first.c.held_on) + _inline(43200)  # noon UTC of that day
    # each case's milestones once, the first interview's earlier day taken into account:
    # the steps' branches read plain columns (the statement stays under psycopg's 4 KB
    # cache of parsed statements; it was 7 KB, parsed again at every execution)
    moved = reached.c.get(FIRST_INTERVIEW)  # the first interview's move, if a milestone
    points = (
        select(*(reached.c[m.key] for m in marks if m.key != FIRST_INTERVIEW),
               *((case((interview < moved, interview), else_=func.coalesce(moved, interview))
                  .label(FIRST_INTERVIEW),) if moved is not None else ()))
        .select_from(reached.outerjoin(first, first.c.case_id == reached.c.case_id))
        .cte("points"))

    def at(key):
        return points.c[key]

    pairs = union_all(*(
        select(_inline(key).label("step"), case((at(end) < at(start), _inline(0)),
                                                else_=at(end) - at(start)).label("seconds"))
        .where(at(start).is_not(None), at(end).is_not(None))
        for key, start, end, _label in steps)).subquery("pairs")
    ranked = select(
        pairs.c.step, pairs.c.seconds,
        func.row_number().over(partition_by=pairs.c.step, order_by=pairs.c.seconds)
        .label("rank"),
        func.count().over(partition_by=pairs.c.step).label("n")).subquery("ranked")
    return (select(ranked.c.step, func.avg(ranked.c.seconds), func.max(ranked.c.n))
            .where(ranked.c.rank.in_(((ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2)))
            .group_by(ranked.c.step))


_CODE = re.compile(r"[A-Za-z0-9_]+")


def _inline(value):
    """A constant written in the statement instead of a bound parameter (a workflow's
    state or milestone code, a number): a statement built once keeps its parameters to
    what changes per call (each bound parameter costs at every execution); anything
    that is not a plain code stays bound."""
    if isinstance(value, int):
        return literal_column(str(value), Integer)
    if isinstance(value, str) and _CODE.fullmatch(value):
        return literal_column(f"'{value}'", String)
    return literal(value)


def delay_histograms(session, period: Period, workflow) -> dict[str, dict[int, int]]:
    """``{delay key: {days: number of cases}}`` for the delays of the tenant's
    ``workflow`` (its milestones: the core's and its plugins') whose later milestone (the
    first time a case reached it) falls in the year."""
    columns = [T.case_id, *(func.min(T.at).filter(_reaches(mark)).label(mark.key)
                            for mark in workflow.milestones)]
    # only the cases that moved in the year (an indexed range on ``at``), all of their
    # history up to the year's end
    active = select(T.case_id).where(_transitions_in(period))
    milestones = (
        select(*columns)
        .where(T.at < period.end, T.case_id.in_(active))
        .group_by(T.case_id)
        # a CTE, computed once (PostgreSQL materialises a CTE used more than once), not a
        # subquery re-aggregated by each of the union's branches
        .cte("milestones")
    )
    selects = []
    delays = workflow.delays()
    for key, first, second, _label in delays:
        earlier, later = milestones.c[first], milestones.c[second]
        selects.append(
            select(
                literal(key).label("delay"),
                _elapsed_days(session, earlier, later).label("days"),
            ).where(earlier.is_not(None), later >= period.start, later < period.end)
        )
    pairs = union_all(*selects).subquery("pairs")
    rows = session.execute(
        select(pairs.c.delay, pairs.c.days, func.count())
        .group_by(pairs.c.delay, pairs.c.days)
    ).all()
    out: dict[str, dict[int, int]] = {key: {} for key, _a, _b, _l in delays}
    for key, days, n in rows:
        out[key][int(days)] = int(n)
    return out


def reorientations(session, period: Period) -> dict[str, int]:
    rows = session.execute(
        select(Case.reoriented_to, func.count(distinct(T.case_id)))
        .select_from(T).join(Case, T.case_id == Case.id)
        .where(T.to_state == "reoriented", _transitions_in(period))
        .group_by(Case.reoriented_to)
    ).all()
    return {(k or "unknown"): int(n) for k, n in rows}


def _outcome(workflow):
    groups: dict[str, list[str]] = {}
    for code, state in workflow.states.items():
        groups.setdefault(state.outcome, []).append(code)
    return case(
        *[(Case.state.in_(states), literal(o)) for o, states in groups.items()],
        else_=literal("in_progress"),
    )


def partner_cases(session, period: Period, workflow) -> dict[str, dict[str, int]]:
    """The year's referred requests: ``{organisation name: {outcome: count}}`` (the outcome
    of each state from the tenant's ``workflow``)."""
    outcome = _outcome(workflow).label("outcome")
    rows = session.execute(
        select(Organisation.name, outcome, func.count())
        .select_from(Case)
        .outerjoin(Organisation, Case.referring_organisation_id == Organisation.id)
        .where(_requests_of(period), Case.source == "referral")
        .group_by(Organisation.name, outcome)
    ).all()
    out: dict[str, dict[str, int]] = {}
    for name, o, n in rows:
        out.setdefault(name or "Non renseigné", {})[str(o)] = int(n)
    return out


def partner_referrals(session, period: Period) -> dict[str, dict[str, dict[str, int]]]:
    """Referrals of the year received from and sent to each partner, by status, and the
    outcomes the partners reported for those sent to them (``outcomes``, when any)."""
    in_year = (Referral.created_at >= period.start) & (Referral.created_at < period.end)
    out: dict[str, dict[str, dict[str, int]]] = {}
    for direction, org_column in (
        ("received", Referral.from_organisation_id), ("sent", Referral.to_organisation_id)
    ):
        rows = session.execute(
            select(Organisation.name, Referral.status, func.count())
            .select_from(Referral)
            .join(Organisation, org_column == Organisation.id)
            .where(in_year, Organisation.kind != "ccas")
            .group_by(Organisation.name, Referral.status)
        ).all()
        for name, status, n in rows:
            out.setdefault(name, {"received": {}, "sent": {}})[direction][str(status)] = int(n)
    # What came of the referrals sent to each partner (its coded outcomes).
    rows = session.execute(
        select(Organisation.name, Referral.outcome, func.count())
        .select_from(Referral)
        .join(Organisation, Referral.to_organisation_id == Organisation.id)
        .where(in_year, Organisation.kind != "ccas", Referral.outcome.is_not(None))
        .group_by(Organisation.name, Referral.outcome)
    ).all()
    for name, outcome, n in rows:
        entry = out.setdefault(name, {"received": {}, "sent": {}})
        entry.setdefault("outcomes", {})[str(outcome)] = int(n)
    return out


def granted_loans(session, period: Period) -> dict:
    """Count, sum and averages of the year's granted transitions' amount and duration."""
    amount = cast(T.data["amount_granted"].as_string(), Numeric(12, 2))
    months = cast(T.data["months"].as_string(), Integer)
    row = session.execute(
        select(func.count(amount), func.sum(amount), func.avg(months))
        .where(T.to_state == "granted", _transitions_in(period))
    ).one()
    count, total, avg_months = row
    total = Decimal(str(total or 0)).quantize(Decimal("0.01"))
    average = (total / count).quantize(Decimal("0.01")) if count else None
    return {
        "count": int(count or 0),
        "amount_lent": total,
        "average_amount": average,
        "average_months": round(float(avg_months), 1) if avg_months is not None else None,
    }
