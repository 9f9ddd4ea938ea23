"""``ccas worker``: the one background process (outbox, reminders, expiry, purge, the
plugins' jobs), ``docs/deployment.md``."""

from __future__ import annotations

import signal
import threading

import click

from .. import formats, migrate, rawsql
from ..db import db
from ..worker.runner import Worker
from .context import _app, friendly


def _print(reports) -> None:
    for report in reports:
        state = "échec" if report.status == "failed" else "fait"
        click.echo(f"{report.job} ({report.slot:%d/%m/%Y %H:%M} UTC) : {state}, "
                   f"{formats.plural(report.tenants_ok, 'réussite', 'réussites')}, "
                   f"{formats.plural(report.tenants_failed, 'échec', 'échecs')}.")
        for line in report.lines:
            click.echo(f"  {line}")


def _require_schema(app) -> None:
    """Refuse to start on a database not at the migrations' head (the worker's tables
    may be missing): systemd restarts it once ``ccas db upgrade`` has run."""
    with app.app_context(), db.engine.connect() as conn:
        current = rawsql.migration_revision(conn)
    pending = migrate.pending_heads(current)
    if pending:
        raise click.ClickException(
            "La base de données n'est pas à jour (migrations en attente : "
            f"{', '.join(sorted(pending))}) : lancez « ccas db upgrade »."
        )


@click.command("worker")
@click.option("--once", is_flag=True,
              help="Un seul passage : lance les tâches dues puis s'arrête (cron, tests).")
@click.option("--interval", type=click.FloatRange(min=0.5), default=5.0, show_default=True,
              help="Secondes entre deux passages.")
@click.option("--job", "only", multiple=True,
              help="Seulement cette tâche (répétable ; par défaut : toutes).")
@click.option("--list", "list_jobs", is_flag=True, help="Lister les tâches et leur période.")
@friendly
def worker(once, interval, only, list_jobs):
    """Lance les tâches planifiées : envoi des messages, rappels, expirations, purge,
    tâches des extensions ; chacune une fois par période, quel que soit le nombre de
    workers."""
    app = _app()
    _require_schema(app)
    try:
        runner = Worker(app, only=list(only) or None)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if list_jobs:
        for job in runner.jobs:
            where = "plateforme" if not job.declared.per_tenant else (
                "chaque territoire" if job.internal else f"territoires avec {job.owner}")
            click.echo(f"{job.name}\t{job.schedule}\t{where}\t{job.declared.label}")
        return
    if once:
        _print(runner.run_due())
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"Worker {runner.name} : {formats.plural(len(runner.jobs), 'tâche', 'tâches')}, "
               "passage toutes les "
               f"{interval:g} s (Ctrl+C pour arrêter).")
    runner.loop(interval, stop, on_round=_print)
    click.echo("Worker arrêté.")

