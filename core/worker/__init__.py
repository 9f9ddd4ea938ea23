"""Background work: one process, ``ccas worker`` (``docs/deployment.md``).

:mod:`core.worker.schedule` (pure: slots, ``CCAS_WORKER_SCHEDULE``),
:mod:`core.worker.runner` (claims, tenant by tenant runs, heartbeats),
:mod:`core.worker.jobs` (the core's jobs). :func:`status` is what the operator console
shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from .. import clock
from ..models import JobRun, WorkerHeartbeat

#: A worker not seen for this long is shown as silent.
SILENT_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class WorkerState:
    worker: str
    started_at: datetime
    seen_at: datetime
    current_job: str
    alive: bool


@dataclass(frozen=True)
class JobState:
    job: str
    last_run: JobRun
    last_failure: JobRun | None


@dataclass(frozen=True)
class Status:
    """Workers (most recently seen first) and, per job, its last run and last failure."""

    workers: list[WorkerState]
    jobs: list[JobState]

    @property
    def alive(self) -> bool:
        return any(w.alive for w in self.workers)


def status(session, now: datetime | None = None) -> Status:
    """The workers' heartbeats and the jobs' last runs (platform tables: call it with any
    session, no tenant needed)."""
    now = now or clock.now()
    beats = session.scalars(select(WorkerHeartbeat)
                            .order_by(WorkerHeartbeat.seen_at.desc())).all()
    workers = [WorkerState(b.worker, b.started_at, b.seen_at, b.current_job,
                           now - b.seen_at <= SILENT_AFTER) for b in beats]
    last = select(JobRun.job, func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery()
    failed = (select(JobRun.job, func.max(JobRun.id).label("id"))
              .where(JobRun.status == "failed").group_by(JobRun.job).subquery())
    runs = {r.job: r for r in session.scalars(select(JobRun).join(last, JobRun.id == last.c.id))}
    failures = {r.job: r for r in
                session.scalars(select(JobRun).join(failed, JobRun.id == failed.c.id))}
    jobs = [JobState(name, runs[name], failures.get(name)) for name in sorted(runs)]
    return Status(workers, jobs)
