"""The worker: runs the declared jobs (``ccas_scheduled_jobs``) once per slot.

* Jobs come from the one plugin contract: the core's own (``core.worker.jobs``, an
  internal plugin) and every usable plugin's; ``CCAS_WORKER_SCHEDULE`` changes a
  schedule or switches a job off.
* A run is claimed by inserting its ``(job, slot)`` row in ``job_runs`` (``INSERT … ON
  CONFLICT DO NOTHING``, on PostgreSQL and SQLite alike): whoever inserts it runs the job,
  any other worker sees the row and moves on. Two workers never run a job twice for one
  slot.
* A per-tenant job runs tenant by tenant, each in a fresh application context, inside
  that tenant's scope (the ORM wall and, on PostgreSQL, row-level security), with its own
  transaction: committed after the tenant's run, rolled back if it raises. A failure is
  logged and recorded on the run (``failed``, the tenant named, no message that could
  carry personal data); the other tenants and the other jobs still run.
* A tenant suspended by the platform's operator is skipped (its jobs wait for it to be
  resumed, its outbox too) except by the jobs declared ``while_suspended`` (the retention
  purge: a legal obligation does not stop with the service).
* Each worker keeps a heartbeat row (``worker_heartbeats``) fresh: the operator console
  reads it through :func:`core.worker.status`.
"""

from __future__ import annotations

import inspect
import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask, g
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from .. import clock, plugins, tenancy
from ..db import db
from ..models import JobRun, Tenant, WorkerHeartbeat
from ..plugins.types import ScheduledJob
from .schedule import Schedule, parse_overrides, slot_of

log = logging.getLogger(__name__)

DETAIL_LIMIT = 4000


@dataclass(frozen=True)
class Job:
    """A declared job, its owner and its effective schedule."""

    declared: ScheduledJob
    owner: str
    internal: bool
    schedule: Schedule

    @property
    def name(self) -> str:
        return self.declared.name


@dataclass
class RunReport:
    job: str
    slot: datetime
    status: str = "ok"
    tenants_ok: int = 0
    tenants_failed: int = 0
    lines: list[str] = field(default_factory=list)


def declared_jobs(app: Flask) -> list[Job]:
    """Every job of the core and the usable plugins, with the schedule in force (jobs
    switched off by ``CCAS_WORKER_SCHEDULE`` left out), in name order."""
    registry = app.extensions["ccas_plugins"]
    overrides = parse_overrides(app.config.get("CCAS_WORKER_SCHEDULE"))
    answers = registry.hook("ccas_scheduled_jobs").answers()
    for name in answers.failed:
        log.error("the scheduled jobs of plugin %s are unavailable", name)
    jobs: dict[str, Job] = {}
    for owner, declared in answers.results:
        for item in declared or []:
            if not isinstance(item, ScheduledJob):
                log.error("plugin %s declared a job that is not a ScheduledJob: %r", owner, item)
                continue
            if item.name in jobs:
                log.error("job %s declared twice (by %s and %s): the second is ignored",
                          item.name, jobs[item.name].owner, owner)
                continue
            default = Schedule(item.every, item.at or timedelta(0))
            chosen = overrides.get(item.name, default)
            if chosen is None:
                continue
            jobs[item.name] = Job(item, owner, registry.is_internal(owner), chosen)
    for unknown in sorted(set(overrides) - {j.name for j in _all(answers)}):
        log.warning("CCAS_WORKER_SCHEDULE names an unknown job: %s", unknown)
    return [jobs[name] for name in sorted(jobs)]


def _all(answers) -> list[ScheduledJob]:
    return [j for _owner, found in answers.results for j in (found or [])
            if isinstance(j, ScheduledJob)]


def _call(fn, **available):
    """Call ``fn`` with the arguments it names among ``available``."""
    wanted = inspect.signature(fn).parameters
    if any(p.kind == p.VAR_KEYWORD for p in wanted.values()):
        return fn(**available)
    return fn(**{k: v for k, v in available.items() if k in wanted})


def _failure(exc: BaseException) -> str:
    # The exception's class only: a database error's text may quote a person's data.
    return f"échec ({type(exc).__name__}, voir le journal du worker)"


class Worker:
    """One worker process (or thread, in the tests): ``run_due()`` runs every job whose
    current slot nobody claimed yet; ``loop()`` does it every ``interval`` seconds."""

    def __init__(self, app: Flask, name: str | None = None, only: list[str] | None = None):
        self.app = app
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"
        with app.app_context():
            self.jobs = declared_jobs(app)
        if only:
            unknown = set(only) - {j.name for j in self.jobs}
            if unknown:
                raise ValueError("Tâches inconnues ou désactivées : "
                                 + ", ".join(sorted(unknown)))
            self.jobs = [j for j in self.jobs if j.name in only]
        self._seen: set[tuple[str, datetime]] = set()

    # -- bookkeeping (platform tables, short transactions of their own) ----------------

    def _session(self):
        return self.app.extensions["ccas_sessionmaker"]()

    def beat(self, current_job: str = "") -> None:
        """Create or refresh this worker's heartbeat row."""
        now = clock.now()
        with self._session() as session:
            row = session.scalar(select(WorkerHeartbeat)
                                 .where(WorkerHeartbeat.worker == self.name))
            if row is None:
                session.add(WorkerHeartbeat(worker=self.name, started_at=now, seen_at=now,
                                            current_job=current_job))
            else:
                row.seen_at, row.current_job = now, current_job
            session.commit()

    def claim(self, job: Job, slot: datetime) -> int | None:
        """Insert the run row of ``(job, slot)``; its id, or ``None`` if another worker
        (or this one) has it already."""
        table = JobRun.__table__
        with self._session() as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            stmt = (insert(table)
                    .values(job=job.name, slot=slot, worker=self.name, started_at=clock.now(),
                            status="running", tenants_ok=0, tenants_failed=0, detail="")
                    .on_conflict_do_nothing(index_elements=["job", "slot"])
                    .returning(table.c.id))
            run_id = session.execute(stmt).scalar()
            session.commit()
        return run_id

    def _finish(self, run_id: int, report: RunReport) -> None:
        detail = "\n".join(report.lines)
        if len(detail) > DETAIL_LIMIT:
            detail = detail[:DETAIL_LIMIT - 1] + "…"
        with self._session() as session:
            session.execute(update(JobRun).where(JobRun.id == run_id).values(
                finished_at=clock.now(), status=report.status, tenants_ok=report.tenants_ok,
                tenants_failed=report.tenants_failed, detail=detail))
            session.commit()

    # -- running -----------------------------------------------------------------------

    def run_due(self, now: datetime | None = None,
                stop: threading.Event | None = None) -> list[RunReport]:
        """Run every job whose current slot is not claimed yet; the reports of the runs
        this worker made."""
        now = now or clock.now()
        reports = []
        self.beat()
        for job in self.jobs:
            if stop is not None and stop.is_set():
                break
            slot = slot_of(now, job.schedule)
            if (job.name, slot) in self._seen:
                continue
            self._seen.add((job.name, slot))
            run_id = self.claim(job, slot)
            if run_id is None:
                continue
            self.beat(job.name)
            report = self.run_job(job, slot, now)
            self._finish(run_id, report)
            reports.append(report)
        self.beat()
        current = {(job.name, slot_of(now, job.schedule)) for job in self.jobs}
        self._seen &= current
        return reports

    def run_job(self, job: Job, slot: datetime, now: datetime) -> RunReport:
        report = RunReport(job.name, slot)
        if not job.declared.per_tenant:
            self._run_platform(job, now, report)
        else:
            for tenant_id, slug, suspended in self._tenants():
                if suspended and not job.declared.while_suspended:
                    report.lines.append(f"{slug} : territoire suspendu, tâche en attente")
                    continue
                self._run_tenant(job, tenant_id, slug, now, report)
        if report.tenants_failed:
            report.status = "failed"
        log.debug("job %s (slot %s): %s", job.name, slot.isoformat(), report.status)
        return report

    def _tenants(self) -> list[tuple[int, str, bool]]:
        """Every tenant as ``(id, slug, suspended)``."""
        with self._session() as session:
            return [(t.id, t.slug, t.suspended_at is not None) for t in session.execute(
                select(Tenant.id, Tenant.slug, Tenant.suspended_at).order_by(Tenant.slug))]

    def _run_platform(self, job: Job, now: datetime, report: RunReport) -> None:
        with self.app.app_context():
            session = db.session
            try:
                summary = _call(job.declared.run, session=session, now=now)
                session.commit()
            except Exception as exc:  # noqa: BLE001 - recorded; the other jobs still run
                session.rollback()
                log.exception("job %s failed", job.name)
                report.tenants_failed += 1
                report.lines.append(_failure(exc))
                return
        report.tenants_ok += 1
        if summary:
            report.lines.append(str(summary))

    def _run_tenant(self, job: Job, tenant_id: int, slug: str, now: datetime,
                    report: RunReport) -> None:
        with self.app.app_context(), tenancy.tenant_scope(tenant_id):
            session = db.session
            try:
                tenant = session.get(Tenant, tenant_id)
                g.tenant = tenant
                if not job.internal and not plugins.is_enabled(job.owner):
                    return
                summary = _call(job.declared.run, tenant=tenant, session=session, now=now)
                session.commit()
            except Exception as exc:  # noqa: BLE001 - recorded; the other tenants still run
                session.rollback()
                log.exception("job %s failed for tenant %s", job.name, slug)
                report.tenants_failed += 1
                report.lines.append(f"{slug} : {_failure(exc)}")
                return
        report.tenants_ok += 1
        if summary:
            report.lines.append(f"{slug} : {summary}")

    def loop(self, interval: float = 5.0, stop: threading.Event | None = None,
             on_round=None) -> None:
        """``run_due`` every ``interval`` seconds until ``stop`` is set (a job under way
        is finished first)."""
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                reports = self.run_due(stop=stop)
            except Exception:  # noqa: BLE001 - the database restarting must not end the worker
                log.exception("worker round failed; next round in %s s", interval)
                reports = []
            if on_round is not None:
                on_round(reports)
            stop.wait(interval)
