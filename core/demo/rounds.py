"""The generator's rounds: each round of :data:`core.demo.CHUNK` requests drawn on its own,
so that rounds can be drawn in any order, or at once in worker processes.

Round 0 draws from the generation's own random generator (right after the intake days),
so a generation of one round (``ccas demo``: 800 requests) is what it always was; round
``k`` from ``random.Random(f"{seed}:round:{k}")`` and its plugins' rows from
``f"{seed}:plugins:{k}"``. What a round needs from the others is known beforehand: the
references given before it by year (from the intake days), and the first day of the next
round, which its agenda leaves alone (:class:`core.demo.agenda.Agenda`'s ``until``: two
rounds never book the same slot). So the same seed gives the same rows whether the
rounds are drawn one after the other or by several processes (:class:`Workers`).

The plugins' rows (hook ``ccas_demo_data``) stay in one process, round after round: the
lender's guarantee calls depend on what was lent before.
"""

from __future__ import annotations

import multiprocessing
import os
import random
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import g

from .. import tenancy
from ..db import db
from ..models import Tenant
from . import (
    accompaniment,
    agenda,
    cases,
    documents,
    evaluation,
    households,
    referrals,
    staff_time,
)
from .cast import find_cast
from .rows import Rows
from .stories import cover_referrals, cover_states, draw_story

#: Cases kept aside to invite to the workshops and book this week (at any scale).
SAMPLE = 3_000


@dataclass(frozen=True)
class Plan:
    """What every round of one generation shares, drawn or read before the rounds."""

    seed: int
    today: date
    now: datetime
    zone: ZoneInfo
    last_day: date
    notice: str | None
    flow: Any  # the tenant's workflow
    check: Any  # its check of a drawn story
    days: list[date]  # the intake day of every request, in order
    size: int  # requests per round

    def rounds(self) -> range:
        return range((len(self.days) + self.size - 1) // self.size)

    def done_after(self, k: int) -> int:
        """Requests drawn once round ``k`` is."""
        return min((k + 1) * self.size, len(self.days))

    def per_year_before(self, k: int) -> dict[int, int]:
        """The references given by year before round ``k`` (its cases number on)."""
        return dict(Counter(day.year for day in self.days[:k * self.size]))

    def until(self, k: int) -> date | None:
        """The first intake day of round ``k + 1`` (``None`` for the last round)."""
        start = (k + 1) * self.size
        return self.days[start] if start < len(self.days) else None


def round_rng(seed: int, k: int, main: random.Random | None = None) -> random.Random:
    """Round ``k``'s random generator: ``main`` (the generation's) for the first round."""
    return main if k == 0 else random.Random(f"{seed}:round:{k}")


def plugin_rng(seed: int, k: int, main: random.Random) -> random.Random:
    """The generator the plugins draw round ``k``'s rows from: ``main`` for the first."""
    return main if k == 0 else random.Random(f"{seed}:plugins:{k}")


@dataclass
class Drawn:
    """A round drawn: its cases and the few set aside for workshops and this week's
    meetings."""

    made: list  # core.demo.cases.Made
    picked: list


def draw(rows: Rows, plan: Plan, cast, tenant, k: int, rng: random.Random) -> Drawn:
    """Gather round ``k``'s rows in ``rows`` (drawn from ``rng``): persons, cases,
    households, interviews, documents, referrals, accompaniment, staff time and past
    meetings. Nothing is written."""
    rows.rng = rng
    start = k * plan.size
    chunk = plan.days[start:start + plan.size]
    stories = [draw_story(rng, start + n, day, plan.last_day, plan.check)
               for n, day in enumerate(chunk, start=1)]
    if plan.until(k) is None:  # the last round holds today's cases
        cover_states(stories, plan.flow.states)
        cover_referrals(stories, lambda story: referrals.current_status(story, plan.flow))
    zone, last_day = plan.zone, plan.last_day
    made = cases.write(rows, stories, cast, zone, plan.per_year_before(k), plan.today,
                       plan.notice)
    households.add(rows, made, zone)
    evaluation.add(rows, made, cast, zone, last_day)
    documents.add(rows, made, cast, tenant, zone, last_day)
    referrals.add(rows, made, cast, last_day, zone, plan.flow)
    accompaniment.add(rows, made, cast, tenant, last_day, zone)
    staff_time.add(rows, made, cast, last_day)
    agenda.Agenda(rows, cast, plan.today, zone, plan.now, until=plan.until(k)).past(made)
    picked = rng.sample(made, min(len(made), SAMPLE // 10))
    return Drawn(made, picked)


@dataclass
class Written:
    """What a worker process sends back of a round it wrote and committed."""

    k: int
    tables: dict[str, int]
    made: list  # the round's last SAMPLE cases (this week's meetings, workshops)
    picked: list
    cases: list  # every case as the plugins see it (DemoCase)
    pid: int  # the process that wrote it


#: What the worker processes inherit from the parent when forked: the app, the plan and
#: the tenant's id (set just before the pool starts).
_FORKED: dict[str, Any] = {}


class Workers:
    """Rounds drawn and written by ``workers`` forked processes, each round committed by
    its process on its own connection (PostgreSQL). Make it before the caller starts a
    thread: the processes are forked at once. Iterating gives each round's
    :class:`Written` in order, once (what was given is not kept); :meth:`close` cancels
    the rounds not started and waits for the others (after a failure the rounds already
    committed stay: the tenant is a scratch one to throw away)."""

    def __init__(self, app, plan: Plan, tenant_id: int, rounds: list[int], workers: int):
        _FORKED.update(app=app, plan=plan, tenant_id=tenant_id)
        self._pool = ProcessPoolExecutor(
            min(workers, len(rounds)), mp_context=multiprocessing.get_context("fork"),
            initializer=_worker_started)
        try:
            # with "fork" every process starts at the first submit, before any thread
            self._futures = [self._pool.submit(_write_round, k) for k in rounds]
        except BaseException:
            self.close()
            raise
        finally:
            _FORKED.clear()

    def __iter__(self) -> Iterator[Written]:
        while self._futures:  # a round's cases are let go once given
            yield self._futures.pop(0).result()

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


def _worker_started() -> None:
    """In a forked worker: forget the parent's connections without closing them (they
    are the parent's; psycopg closes a connection only in the process that opened it)."""
    for engine in db._engines.values():
        engine.dispose(close=False)


def _write_round(k: int) -> Written:
    """In a worker: round ``k`` drawn, written and committed in a session of its own."""
    app, plan, tenant_id = _FORKED["app"], _FORKED["plan"], _FORKED["tenant_id"]
    with app.app_context():  # a context of its own: never the parent's session
        session = db.session
        with tenancy.tenant_scope(tenant_id):
            tenant = g.tenant = session.get(Tenant, tenant_id)
            rng = round_rng(plan.seed, k)  # k > 0: the parent draws the first round
            rows = Rows(session, rng)
            drawn = draw(rows, plan, find_cast(session), tenant, k, rng)
            tables = rows.write()
            session.commit()
    return Written(k, tables, drawn.made[-SAMPLE:], drawn.picked,
                   [m.case for m in drawn.made], os.getpid())
