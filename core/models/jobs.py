"""The worker's bookkeeping (``core.worker``): platform tables, no tenant.

* ``job_runs``: one row per (job, slot) — the run of a scheduled job for one period of its
  schedule. The row is claimed by inserting it; the unique key means two workers never
  run the same job for the same slot. ``detail`` says, tenant by tenant, what was done or
  what failed (codes and counts, never personal data).
* ``worker_heartbeats``: one row per worker process, refreshed at every round: the
  operator console shows which workers are alive and what they are doing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(100))
    #: Start of the schedule period this run is for (UTC).
    slot: Mapped[datetime] = mapped_column(UTCDateTime)
    worker: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: running, ok, failed (at least one tenant failed; the others ran)
    status: Mapped[str] = mapped_column(String(20), default="running")
    tenants_ok: Mapped[int] = mapped_column(Integer, default=0)
    tenants_failed: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str] = mapped_column(Text, default="")


class WorkerHeartbeat(Base):
    __tablename__ = "worker_heartbeats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    worker: Mapped[str] = mapped_column(String(200), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the job being run, or "" between rounds
    current_job: Mapped[str] = mapped_column(String(100), default="")
