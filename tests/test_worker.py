"""The worker: jobs declared through ccas_scheduled_jobs, run once per slot whatever the
number of workers, tenant by tenant, a failure recorded without stopping the others,
heartbeats for the operator console."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core import accounts, clock, tenancy, worker
from core.config import ConfigError, load
from core.models import Case, JobRun, WorkerHeartbeat
from core.plugin_api import ScheduledJob
from core.testing.pytest_plugin import probe_plugin
from core.worker.runner import Worker
from core.worker.schedule import Schedule, parse_overrides, slot_of

# -- schedules (pure) ------------------------------------------------------------------------


def test_slots_are_periods_from_midnight_utc_shifted_by_at():
    daily = Schedule(timedelta(days=1), timedelta(hours=5))
    assert slot_of(datetime(2027, 3, 4, 4, 59, tzinfo=UTC), daily) == \
        datetime(2027, 3, 3, 5, 0, tzinfo=UTC)
    assert slot_of(datetime(2027, 3, 4, 5, 0, tzinfo=UTC), daily) == \
        datetime(2027, 3, 4, 5, 0, tzinfo=UTC)
    minute = Schedule(timedelta(minutes=1))
    assert slot_of(datetime(2027, 3, 4, 5, 7, 31, tzinfo=UTC), minute) == \
        datetime(2027, 3, 4, 5, 7, tzinfo=UTC)


def test_schedule_overrides():
    assert parse_overrides("outbox.drain=30s, referrals.remind=1d@06:30, privacy.purge=off") == {
        "outbox.drain": Schedule(timedelta(seconds=30)),
        "referrals.remind": Schedule(timedelta(days=1), timedelta(hours=6, minutes=30)),
        "privacy.purge": None,
    }
    for bad in ("outbox.drain", "outbox.drain=soon", "x=0s", "x=1d@25:00"):
        with pytest.raises(ValueError, match="CCAS_WORKER_SCHEDULE"):
            parse_overrides(bad)


def test_a_bad_schedule_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigError, match="période invalide"):
        load(str(tmp_path), {"CCAS_WORKER_SCHEDULE": "outbox.drain=bientôt"})


# -- the jobs ----------------------------------------------------------------------------------


def test_the_core_and_the_lender_declare_their_jobs(app):
    names = {job.name: job for job in Worker(app).jobs}
    assert {"outbox.drain", "appointments.remind", "referrals.remind", "privacy.purge",
            "imports.sweep", "worker.prune", "credit_municipal.arrears"} <= set(names)
    arrears = names["credit_municipal.arrears"]
    assert arrears.owner == "credit_municipal" and not arrears.internal
    assert names["outbox.drain"].internal


def test_schedule_override_switches_a_job_off(app):
    app.config["CCAS_WORKER_SCHEDULE"] = "privacy.purge=off, outbox.drain=5m"
    jobs = {job.name: job for job in Worker(app).jobs}
    assert "privacy.purge" not in jobs
    assert jobs["outbox.drain"].schedule == Schedule(timedelta(minutes=5))


def _counting_plugin(name, calls, fail_for=(), sleep=0.0, per_tenant=True,
                    while_suspended=False):
    def run(tenant=None, session=None, now=None):
        if tenant is not None:
            # the tenant's scope is set: its own rows only
            assert tenancy.current_tenant_id() == tenant.id
            session.scalar(select(func.count()).select_from(Case))
        time.sleep(sleep)
        calls.append(tenant.slug if tenant is not None else "-")
        if tenant is not None and tenant.slug in fail_for:
            raise RuntimeError("boom with personal data: Léa Martin")
        return "fait"

    return probe_plugin(name, ccas_scheduled_jobs=lambda: [
        ScheduledJob(f"{name}.job", run, every=timedelta(hours=1), per_tenant=per_tenant,
                     while_suspended=while_suspended)])


def test_a_plugin_job_runs_for_the_tenants_that_enabled_it(app, session, with_plugin,
                                                          other_tenant):
    calls = []
    with_plugin(_counting_plugin("probe_jobs", calls))
    reports = Worker(app, only=["probe_jobs.job"]).run_due()
    assert calls == ["alpha"]  # other_tenant did not enable it
    assert reports[0].status == "ok" and reports[0].tenants_ok == 1


def test_each_job_runs_once_per_slot(app, session, with_plugin):
    calls = []
    with_plugin(_counting_plugin("probe_jobs", calls))
    now = clock.now()
    first, second = Worker(app, name="w1"), Worker(app, name="w2")
    assert [r.job for r in first.run_due(now) if r.job == "probe_jobs.job"]
    assert second.run_due(now) == []
    assert first.run_due(now + timedelta(seconds=1)) == []
    assert calls == ["alpha"]
    # next slot: runs again
    later = [r.job for r in second.run_due(now + timedelta(hours=1))]
    assert "probe_jobs.job" in later and calls == ["alpha", "alpha"]


def test_two_workers_racing_run_each_job_once(app, session, with_plugin, make_tenant,
                                              enable_plugin):
    calls = []
    with_plugin(_counting_plugin("probe_jobs", calls, sleep=0.05))
    for slug in ("beta", "gamma"):
        enable_plugin(make_tenant(slug), "probe_jobs")
    session.commit()
    now = clock.now()
    workers = [Worker(app, name=f"racer{i}") for i in range(2)]
    barrier = threading.Barrier(len(workers))
    results, errors = {}, []

    def race(w):
        try:
            with app.app_context():
                barrier.wait()
                results[w.name] = w.run_due(now)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert Counter(calls) == {"alpha": 1, "beta": 1, "gamma": 1}
    ran = Counter(r.job for reports in results.values() for r in reports)
    assert ran and set(ran.values()) == {1}  # every job once, by one worker or the other
    rows = session.execute(select(JobRun.job, func.count()).group_by(JobRun.job)).all()
    assert {job: n for job, n in rows} == {job: 1 for job in ran}


def test_a_failing_job_is_recorded_and_does_not_stop_the_others(app, session, with_plugin,
                                                                make_tenant, enable_plugin,
                                                                caplog):
    calls, other_calls = [], []
    with_plugin(_counting_plugin("probe_jobs", calls, fail_for=("alpha",)))
    with_plugin(_counting_plugin("probe_more", other_calls))
    enable_plugin(make_tenant("beta"), "probe_jobs")
    session.commit()
    reports = {r.job: r for r in Worker(app, only=["probe_jobs.job", "probe_more.job"])
               .run_due()}
    failed = reports["probe_jobs.job"]
    assert failed.status == "failed" and failed.tenants_failed == 1 and failed.tenants_ok == 1
    assert calls == ["alpha", "beta"]
    assert other_calls == ["alpha"] and reports["probe_more.job"].status == "ok"
    row = session.scalar(select(JobRun).where(JobRun.job == "probe_jobs.job"))
    assert row.status == "failed" and row.finished_at is not None
    assert "alpha : échec (RuntimeError" in row.detail and "beta : fait" in row.detail
    assert "Léa" not in row.detail


def test_a_suspended_tenants_jobs_wait_except_the_legal_ones(app, session, with_plugin,
                                                            make_tenant, enable_plugin):
    """Suspended by the operator: no reminder, no rule applied to its files, its mail held;
    the retention purge (declared ``while_suspended``) still runs."""
    waiting, legal = [], []
    with_plugin(_counting_plugin("probe_jobs", waiting))
    with_plugin(_counting_plugin("probe_legal", legal, while_suspended=True))
    beta = make_tenant("beta")
    for name in ("probe_jobs", "probe_legal"):
        enable_plugin(beta, name)
    accounts.set_suspended(session, beta, True)
    session.commit()
    now = clock.now()
    reports = {r.job: r for r in Worker(app, only=["probe_jobs.job", "probe_legal.job"])
               .run_due(now)}
    assert waiting == ["alpha"] and sorted(legal) == ["alpha", "beta"]
    held = reports["probe_jobs.job"]
    assert held.status == "ok" and held.tenants_ok == 1
    assert "beta : territoire suspendu, tâche en attente" in held.lines
    declared = {job.name: job.declared.while_suspended for job in Worker(app).jobs}
    assert declared["privacy.purge"] and not declared["appointments.remind"]
    assert not declared["outbox.drain"] and not declared["credit_municipal.arrears"]
    # resumed: its jobs run again at the next slot
    accounts.set_suspended(session, beta, False)
    session.commit()
    Worker(app, only=["probe_jobs.job"]).run_due(now + timedelta(hours=1))
    assert sorted(waiting) == ["alpha", "alpha", "beta"]


def test_heartbeat_and_status(app, session, with_plugin):
    with_plugin(_counting_plugin("probe_jobs", [], fail_for=("alpha",)))
    w = Worker(app, name="host:1:abcd", only=["probe_jobs.job", "worker.prune"])
    w.run_due()
    beat = session.scalar(select(WorkerHeartbeat))
    assert beat.worker == "host:1:abcd" and beat.current_job == ""
    state = worker.status(session)
    assert state.alive and state.workers[0].worker == "host:1:abcd"
    jobs = {j.job: j for j in state.jobs}
    assert jobs["probe_jobs.job"].last_run.status == "failed"
    assert jobs["probe_jobs.job"].last_failure is not None
    assert jobs["worker.prune"].last_run.status == "ok"
    assert jobs["worker.prune"].last_failure is None
    later = worker.status(session, clock.now() + timedelta(minutes=10))
    assert not later.alive


def test_ccas_worker_once_and_list(ccas, tenant, session):
    listing = ccas("worker", "--list")
    assert listing.exit_code == 0, listing.output
    assert "credit_municipal.arrears\t1 j à 04:00 UTC" in listing.output
    result = ccas("worker", "--once")
    assert result.exit_code == 0, result.output
    assert "outbox.drain" in result.output and ": échec" not in result.output
    again = ccas("worker", "--once")
    assert "outbox.drain" not in again.output  # this slot was done
    assert session.scalar(select(func.count()).select_from(WorkerHeartbeat)) == 2
    unknown = ccas("worker", "--once", "--job", "nope")
    assert unknown.exit_code == 1 and "nope" in unknown.output


def test_the_loop_runs_rounds_until_stopped(app, session, with_plugin):
    calls = []
    with_plugin(_counting_plugin("probe_jobs", calls))
    w = Worker(app, only=["probe_jobs.job"])
    stop, rounds = threading.Event(), []

    def on_round(reports):
        rounds.append([r.job for r in reports])
        if len(rounds) == 2:
            stop.set()

    w.loop(interval=0.01, stop=stop, on_round=on_round)
    assert rounds == [["probe_jobs.job"], []]  # the second round finds the slot done
    assert calls == ["alpha"]


def test_two_worker_processes_racing(ccas_database, tenant, session, tmp_path):
    """Two ``ccas worker --once`` processes started together: each job's slot is run by
    one of them (one job_runs row per job; the database decides)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "CCAS_DATABASE_URL": ccas_database.app_url,
           "CCAS_DATABASE_OWNER_URL": ccas_database.owner_url, "CCAS_ENV": "test",
           "CCAS_LOG_LEVEL": "WARNING",
           # periods of ten years: both processes are in the same slots, whatever the
           # instant they start at
           "CCAS_WORKER_SCHEDULE": ", ".join(f"{job}=3650d" for job in (
               "outbox.drain", "appointments.remind", "referrals.remind", "privacy.purge",
               "imports.sweep", "worker.prune", "credit_municipal.arrears",
               "credit_municipal.defaults"))}
    ccas_bin = str(Path(sys.executable).parent / "ccas")
    procs = [subprocess.Popen([ccas_bin, "worker", "--once"], env=env, cwd=tmp_path,  # noqa: S603
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    rows = session.execute(select(JobRun.job, func.count()).group_by(JobRun.job)).all()
    assert rows and all(n == 1 for _job, n in rows), rows
    ran = [line.split(" ")[0] for out, _err in outputs for line in out.splitlines()
           if not line.startswith(" ")]
    assert sorted(ran) == sorted(job for job, _n in rows)  # each job printed by one only
    assert session.scalar(select(func.count()).select_from(WorkerHeartbeat)) == 2


def test_the_worker_refuses_a_database_not_migrated(ccas, monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    monkeypatch.setenv("CCAS_DATABASE_URL", url)
    monkeypatch.setenv("CCAS_DATABASE_OWNER_URL", url)
    result = ccas("worker", "--once")
    assert result.exit_code == 1 and "ccas db upgrade" in result.output


def test_a_failed_round_does_not_end_the_loop(app, monkeypatch):
    w = Worker(app, only=["worker.prune"])
    stop, rounds = threading.Event(), []
    real = w.run_due

    def flaky(**kwargs):
        if not rounds:
            raise ConnectionError("database restarting")
        return real(**kwargs)

    monkeypatch.setattr(w, "run_due", flaky)

    def on_round(reports):
        rounds.append([r.job for r in reports])
        if len(rounds) == 2:
            stop.set()

    w.loop(interval=0.01, stop=stop, on_round=on_round)
    assert rounds == [[], ["worker.prune"]]
