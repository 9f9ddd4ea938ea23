"""The demonstration city and the one data generator of the demo and the benchmarks.

* :func:`create_demo` (``ccas demo``): the tenant « toulouse », its partners and one login
  per role (:mod:`.cast`), then, unless ``empty``, two years of activity up to today from
  :func:`generate`. Run again, it keeps what exists and generates nothing when the tenant
  already has cases (it says so).
* :func:`generate`: the activity of a tenant that has its cast (a CCAS organisation, a
  social worker…), deterministic for a ``seed`` and relative to ``today``: requests drawn
  as stories (:mod:`.stories`, shaped on the seed document's figures), written in bulk
  (:mod:`.rows`) as persons, cases, transitions and audit (:mod:`.cases`), households
  (:mod:`.households`), interviews and
  budgets (:mod:`.evaluation`), documents (:mod:`.documents`), referrals
  (:mod:`.referrals`), appointments (:mod:`.agenda`), accompaniment (:mod:`.accompaniment`),
  workshops (:mod:`.workshops`) and staff time (:mod:`.staff_time`); the suggestions of
  the open cases through the real service (:mod:`.suggestions`); then each enabled
  plugin writes its own rows (hook ``ccas_demo_data``: the lender's loans, repayments
  and guarantee calls). ``years`` and ``requests_per_year`` scale it (the benchmarks load
  a million cases with it).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app, g, has_app_context
from sqlalchemy import func, select

from .. import clock, plugins, tenancy, workflow
from ..labels import label
from ..models import Appointment, Case, Referral
from ..privacy.notice import notice_version
from . import (
    agenda,
    cases,
    referrals,
    rounds,
    suggestions,
    workshops,
)
from .cast import DEMO_PASSWORD, OPERATOR_EMAIL, PARTNERS, SLUG, USERS, create_cast, find_cast
from .rows import Rows, insert_rows, new_id
from .stories import check_of, intake_days

__all__ = [
    "DEFAULT_SEED", "DEMO_PASSWORD", "OPERATOR_EMAIL", "PARTNERS", "USERS", "Summary",
    "create_demo", "generate", "insert_rows", "new_id", "suggest", "summary_lines",
]

DEFAULT_SEED = 2009  # the year the Toulouse scheme started


@dataclass
class Summary:
    """What :func:`generate` wrote (or found): counts to print and to check."""

    seed: int
    today: date
    cases: int = 0
    states: dict[str, int] = field(default_factory=dict)
    referrals: dict[str, int] = field(default_factory=dict)
    appointments_this_week: int = 0
    #: Lines of the plugins (``{label: count}``), e.g. the lender's loans by status.
    plugins: dict[str, int] = field(default_factory=dict)
    #: French labels of the states (the tenant's workflow).
    state_labels: dict[str, str] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)
    generated: bool = True


#: Stories drawn per round: the rows of one round are held in memory, then written
#: (:mod:`.rounds`: each round drawn on its own, in any order or in worker processes).
CHUNK = 10_000


def generate(session, tenant, *, seed: int = DEFAULT_SEED, years: float = 2,
             requests_per_year: int = 400, today: date | None = None,
             progress: Callable[[int, int], None] | None = None,
             workers: int = 1, suggest: bool = True) -> Summary:
    """Write ``years`` of activity ending ``today`` (the tenant's day by default) in
    ``tenant``, ``requests_per_year`` requests a year, drawn from ``seed``. Nothing is
    committed; ``progress(done, total)`` is called after each round of :data:`CHUNK`
    requests (the benchmarks may commit there). The tenant needs its cast
    (:func:`core.demo.cast.find_cast`).

    ``workers`` above 1 (PostgreSQL only; the benchmarks' large loads): rounds after the
    first are drawn and written by that many forked processes, each round committed by
    its process (the caller's transaction holds the first round, the plugins' rows and
    what follows the rounds); the same rows as one process draws. The tenant and its
    cast must be committed before (the processes read them on connections of their
    own), and a failure leaves the rounds already committed: a scratch tenant to throw
    away. ``suggest=False`` leaves the suggestions of the open cases to the caller
    (:func:`suggest`): a bulk load that dropped the indexes asks for them once the
    indexes are built again (the plugins' rules read each case's rows by case).

    What happened is dated before now: the activity stops yesterday while today's office
    hours (9:00 to 15:00, :data:`core.demo.cases.DAY_MINUTES`) are not over; what is
    planned (appointments, workshops) may be later. Each person's household line
    (adults, children's ages) is what their household members give on ``today``."""
    with tenancy.tenant_scope(tenant.id), _tenant_of_hooks(tenant):
        today = today or clock.today(tenant)
        zone = clock.zone(tenant)
        now = (clock.now() if today == clock.today(tenant)
               else datetime.combine(today, time(12), zone).astimezone(UTC))
        rng = random.Random(seed)
        plugins_rng = random.Random(f"{seed}:plugins")
        cast = find_cast(session)
        first_day = today - timedelta(days=round(365 * years))
        # the last day of activity: today once the office's day is over, else yesterday
        # (nothing that happened is dated after now)
        last_day = today if now >= cases.instant(today, cases.DAY_MINUTES, zone) \
            else today - timedelta(days=1)
        flow = workflow.current()
        days = intake_days(rng, first_day, last_day, round(requests_per_year * years))
        plan = rounds.Plan(seed=seed, today=today, now=now, zone=zone, last_day=last_day,
                           notice=notice_version(tenant), flow=flow, check=check_of(flow),
                           days=days, size=CHUNK)
        every = list(plan.rounds())
        apart = None
        if workers > 1 and len(every) > 1:
            if session.get_bind().dialect.name != "postgresql":
                raise ValueError("workers: PostgreSQL only (SQLite takes one writer at a time)")
            apart = rounds.Workers(current_app._get_current_object(), plan, tenant.id,
                                   every[1:], workers)
        rows = Rows(session, rng)
        tables: Counter = Counter()
        from_plugins: Counter = Counter()
        recent, sample = [], []
        hooks = plugins.hooks()

        def kept(made: list, picked: list) -> None:
            """A round's recent cases and those set aside are kept (this week's meetings,
            the workshops)."""
            nonlocal recent
            recent = (recent + made)[-rounds.SAMPLE:]
            sample.extend(picked)

        def finish(k: int, made_cases: list) -> None:
            """After round ``k``'s rows are stored: the plugins' rows, then ``progress``."""
            tables.update(rows.wait())
            for answer in hooks.ccas_demo_data(
                    rng=rounds.plugin_rng(seed, k, plugins_rng), cases=made_cases,
                    today=today) or []:
                from_plugins.update(answer or {})
            if progress is not None:
                progress(plan.done_after(k), len(days))

        try:
            previous = None
            for k in every if apart is None else every[:1]:
                drawn = rounds.draw(rows, plan, cast, tenant, k,
                                    rounds.round_rng(seed, k, rng))
                kept(drawn.made, drawn.picked)
                if previous is not None:
                    finish(*previous)
                rows.write(background=True)
                previous = k, [m.case for m in drawn.made]
            if previous is not None:
                finish(*previous)
            for written in apart or ():  # the other rounds, written by the workers
                tables.update(written.tables)
                kept(written.made, written.picked)
                finish(written.k, written.cases)  # every case of the round
        finally:
            rows.close()
            if apart is not None:
                apart.close()
        rows.rng = rng
        sample = list({m.case.id: m for m in sample[-rounds.SAMPLE:] + recent}.values())
        # this week's and next week's meetings (past meetings are booked before Monday)
        agenda.Agenda(rows, cast, today, zone, now).weeks(recent)
        workshops.add(rows, sample, cast, first_day, today, zone, now)
        referrals.add_unanswered(rows, cast, last_day, zone, len(days))
        tables.update(rows.write())
        if suggest:
            suggestions.add(session, cast)
        summary = summarise(session, tenant, seed, today)
        summary.plugins = dict(from_plugins)
        summary.tables = dict(tables)
        return summary


def suggest(session, tenant) -> int:
    """The "other aids first" suggestions of ``tenant``'s latest open cases, through the
    real service (what :func:`generate` does last unless told not to); how many cases.
    Nothing is committed."""
    with tenancy.tenant_scope(tenant.id), _tenant_of_hooks(tenant):
        return suggestions.add(session, find_cast(session))


@contextmanager
def _tenant_of_hooks(tenant) -> Iterator[None]:
    """``g.tenant`` set for the hooks (they receive the current tenant) while generating."""
    if not has_app_context():
        yield
        return
    previous = g.get("tenant")
    g.tenant = tenant
    plugins.forget_enabled_cache()
    try:
        yield
    finally:
        g.tenant = previous


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def summarise(session, tenant, seed: int, today: date) -> Summary:
    """Counts of the tenant's demonstration data (cases by state, referrals by status,
    appointments this week)."""
    with tenancy.tenant_scope(tenant.id), _tenant_of_hooks(tenant):
        labels = workflow.current().labels()
        states = dict(session.execute(select(Case.state, func.count())
                                      .group_by(Case.state)).all())
        by_status = Counter()
        for status, count in session.execute(select(Referral.status, func.count())
                                             .group_by(Referral.status)).all():
            by_status[str(status)] += count
        zone = clock.zone(tenant)
        week = agenda.week_bounds(monday_of(today), zone)
        appointments = session.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.starts_at >= week[0], Appointment.starts_at < week[1]))
    return Summary(seed=seed, today=today, cases=sum(states.values()), states=states,
                   referrals=dict(by_status), appointments_this_week=appointments or 0,
                   state_labels=labels)


def summary_lines(summary: Summary) -> list[str]:
    """The summary in French, one figure a line (``ccas demo`` prints them)."""
    lines = [f"Dossiers : {summary.cases}"]
    for state, count in sorted(summary.states.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {summary.state_labels.get(state, state)} : {count}")
    lines.append(f"Orientations : {sum(summary.referrals.values())}")
    for status, count in sorted(summary.referrals.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {label('referral_status', status)} : {count}")
    lines.append(f"Rendez-vous cette semaine : {summary.appointments_this_week}")
    lines.extend(f"{name} : {count}" for name, count in summary.plugins.items())
    return lines


def create_demo(session, password: str | None = None, *, empty: bool = False,
                seed: int = DEFAULT_SEED, years: float = 2, requests_per_year: int = 400,
                today: date | None = None, slug: str = SLUG) -> dict:
    """The demonstration city (see the module docstring). Returns the logins to print and
    the :class:`Summary` (``None`` with ``empty``). Nothing is committed."""
    tenant, logins = create_cast(session, password, slug=slug)
    summary = None
    if not empty:
        with tenancy.tenant_scope(tenant.id):
            has_cases = session.scalar(select(func.count()).select_from(Case)) > 0
        if has_cases:
            summary = summarise(session, tenant, seed, today or clock.today(tenant))
            summary.generated = False
        else:
            summary = generate(session, tenant, seed=seed, years=years,
                               requests_per_year=requests_per_year, today=today)
    return {**logins, "summary": summary, "tenant": tenant}
