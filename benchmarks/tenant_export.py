"""Export, delete and import of one city of N cases (default 100,000).

Usage: python benchmarks/tenant_export.py [--admin-url URL] [--rows N]

Loads N legacy cases into a scratch database with the legacy import (the same generator
as ``import_100k.py``: persons, cases, their transitions), then times ``ccas tenant
export``, ``delete`` and ``import`` through their services, and checks that every table
has its row count back. PostgreSQL with ``--admin-url`` / ``$CCAS_BENCH_POSTGRES_URL`` /
``$CCAS_TEST_POSTGRES_URL`` (the app role under row-level security; the deletion as the
owner); SQLite otherwise. Prints times and rows per second; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from import_100k import make_file  # noqa: E402 - the benchmarks share their generator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default=os.environ.get(
        "CCAS_BENCH_POSTGRES_URL", os.environ.get("CCAS_TEST_POSTGRES_URL")))
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    if args.admin_url:
        os.environ["CCAS_TEST_POSTGRES_URL"] = args.admin_url
    else:
        os.environ.pop("CCAS_TEST_POSTGRES_URL", None)

    from core.testing.pytest_plugin import TestDatabase

    with tempfile.TemporaryDirectory() as tmp:
        database = TestDatabase(Path(tmp))
        try:
            run(database, make_file(args.rows), Path(tmp))
        finally:
            database.drop()


def run(database, data: bytes, folder: Path) -> None:
    from sqlalchemy.orm import sessionmaker

    from core import accounts, tenancy
    from core.app import create_app
    from core.db import CcasSession, db, make_engine
    from core.importer import run_import
    from core.portability import export, load, removal

    app = create_app(database.app_config())
    archive = folder / "bench.zip"
    with app.app_context():
        from flask import g

        session = db.session
        tenant = accounts.create_tenant(session, "bench", "CCAS Bench", "Bench")
        session.commit()
        g.tenant = tenant
        with tenancy.tenant_scope(tenant.id):
            run_import(session, tenant, data, "historique.csv")
            session.commit()
        print(f"database: {database.dialect}")
        before = removal.counts(session, tenant)
        rows = sum(before.values())
        print(f"city: {before.get('cases', 0):,} cases, {rows:,} rows in {len(before)} tables")

        started = time.perf_counter()
        export.export_tenant(session, tenant, archive)
        session.commit()
        took = time.perf_counter() - started
        print(f"export: {took:.1f} s ({rows / took:,.0f} rows/s), archive "
              f"{archive.stat().st_size / 1e6:.1f} MB")

        owner = make_engine(database.owner_url)
        owner_session = sessionmaker(bind=owner, class_=CcasSession)()
        started = time.perf_counter()
        removal.delete_tenant(owner_session, owner_session.get(type(tenant), tenant.id))
        owner_session.commit()
        owner_session.close()
        owner.dispose()
        took = time.perf_counter() - started
        print(f"delete: {took:.1f} s ({rows / took:,.0f} rows/s)")

        session.expunge_all()
        started = time.perf_counter()
        back = load.import_tenant(session, archive)
        session.commit()
        took = time.perf_counter() - started
        print(f"import: {took:.1f} s ({rows / took:,.0f} rows/s)")
        after = removal.counts(session, back)
        after.pop("audit_events", None), before.pop("audit_events", None)
        assert after == before, (after, before)
        print("every table has its rows back")


if __name__ == "__main__":
    main()
