"""Import of a 100,000-row legacy spreadsheet (target: under 30 seconds).

Usage: python benchmarks/import_100k.py [--admin-url URL] [--rows N] [--keep]

Writes a semicolon-separated, Windows-1252 CSV of N rows (default 100,000) with French
headers and dates, a realistic mix of outcomes (granted, refused, adjourned, instructed,
reoriented, intake only) and a reference on every other row (the others are keyed by
their content hash), then times ``core.importer.run_import`` + commit into a scratch
database. PostgreSQL with ``--admin-url`` / ``$CCAS_BENCH_POSTGRES_URL`` /
``$CCAS_TEST_POSTGRES_URL`` (the app connects as a non-owner role, so row-level security
applies); SQLite otherwise. Then re-imports the same file and checks nothing new is
created.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HEADER = ("Référence;Date de la demande;Nom;Prénom;Date de naissance;Objet;Montant demandé;"
          "Situation professionnelle;Orientation;Date d'instruction;Date de décision;Décision;"
          "Montant accordé;Durée (mois)")
PURPOSES = ["Mobilité"] * 57 + ["Logement"] * 18 + ["Dettes"] * 12 + ["Formation"] * 5 + [
    "Équipement ménager", "Santé", "Emploi", "Autre"] * 2
JOBS = ["CDI", "CDD", "Intérim", "Temps partiel", "Demandeur d'emploi", "RSA", "Retraité",
        "Étudiant", ""]


def make_file(rows: int, seed: int = 7) -> bytes:
    rnd = random.Random(seed)
    lines = [HEADER]
    for i in range(rows):
        asked = date(2012, 1, 1) + timedelta(days=rnd.randrange(4000))
        born = date(1950, 1, 1) + timedelta(days=rnd.randrange(18000))
        fate = rnd.random()
        orientation = instructed = decided = decision = granted = months = ""
        if fate < 0.10:
            orientation = rnd.choice(["CAF", "Point conseil budget", "Secours Catholique"])
        elif fate < 0.50:
            day = asked + timedelta(days=rnd.randrange(10, 60))
            instructed = day.strftime("%d/%m/%Y")
            if fate < 0.40:
                decided = (day + timedelta(days=rnd.randrange(5, 30))).strftime("%d/%m/%Y")
                decision = "Accordé" if fate < 0.22 else ("Refusé" if fate < 0.37 else "Ajourné")
                if decision == "Accordé":
                    granted = f"{rnd.randrange(3, 31) * 100},00"
                    months = str(rnd.randrange(6, 37))
        reference = f"H-{i:06d}" if i % 2 == 0 else ""
        lines.append(";".join([
            reference, asked.strftime("%d/%m/%Y"), f"Nom{i}", rnd.choice(["Léa", "Noé", "Zoé"]),
            born.strftime("%d/%m/%Y"), rnd.choice(PURPOSES),
            f"{rnd.randrange(3, 31) * 100},00", rnd.choice(JOBS), orientation, instructed,
            decided, decision, granted, months,
        ]))
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default=os.environ.get(
        "CCAS_BENCH_POSTGRES_URL", os.environ.get("CCAS_TEST_POSTGRES_URL")))
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.admin_url:
        os.environ["CCAS_TEST_POSTGRES_URL"] = args.admin_url
    else:
        os.environ.pop("CCAS_TEST_POSTGRES_URL", None)

    from core.testing.pytest_plugin import TestDatabase

    data = make_file(args.rows)
    print(f"file: {args.rows:,} rows, {len(data) / 1e6:.1f} MB (Windows-1252, semicolons)")
    with tempfile.TemporaryDirectory() as tmp:
        database = TestDatabase(Path(tmp))
        try:
            run(database, data)
        finally:
            if not args.keep:
                database.drop()
            elif database.dialect == "postgresql":
                print(f"kept database: {database.name}")


def run(database, data: bytes) -> None:
    from sqlalchemy import func, select

    from core import accounts, tenancy
    from core.app import create_app
    from core.db import db
    from core.importer import run_import
    from core.models import Case, CaseTransition

    app = create_app(database.app_config())
    with app.app_context():
        from flask import g

        session = db.session
        tenant = accounts.create_tenant(session, "bench", "CCAS Bench", "Bench")
        session.commit()
        g.tenant = tenant
        with tenancy.tenant_scope(tenant.id):
            server = _server_cpu(session)
            started, cpu = time.perf_counter(), time.process_time()
            server_before = server()
            result = run_import(session, tenant, data, "historique.csv")
            session.commit()
            elapsed = time.perf_counter() - started
            after = server()
            client_cpu = time.process_time() - cpu
            server_cpu = after - server_before if after is not None else None
            print(f"database: {database.dialect}")
            print(f"import: {result.summary()}")
            print(f"import time: {elapsed:.1f} s ({result.total / elapsed:,.0f} rows/s) "
                  f"{'OK' if elapsed < 30 else 'OVER TARGET'} (target < 30 s)")
            print(f"  CPU: this process {client_cpu:.1f} s"
                  + (f", database server {server_cpu:.1f} s" if server_cpu is not None else "")
                  + f"; load average when done {os.getloadavg()[0]:.1f} on "
                  f"{os.cpu_count()} cores (wall time above includes waiting for a core)")
            cases = session.scalar(select(func.count()).select_from(Case))
            moves = session.scalar(select(func.count()).select_from(CaseTransition))
            print(f"written: {cases:,} cases, {moves:,} transitions, "
                  f"{result.persons_created:,} persons")
            started = time.perf_counter()
            again = run_import(session, tenant, data, "historique.csv")
            session.commit()
            print(f"re-import: {again.created} created, {again.already_imported:,} already "
                  f"imported, in {time.perf_counter() - started:.1f} s")
            assert again.created == 0


def _server_cpu(session):
    """CPU seconds used so far by this session's PostgreSQL backend (same machine, read
    from /proc); ``None`` on SQLite, which runs inside this process."""
    from sqlalchemy import text

    if session.get_bind().dialect.name != "postgresql":
        return lambda: None
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
    ticks = os.sysconf("SC_CLK_TCK")

    def read():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    return read


if __name__ == "__main__":
    main()
