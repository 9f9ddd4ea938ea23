"""Backup and restore round trip on the test database (SQLite online backup; PostgreSQL
pg_dump -Fc / pg_restore): create data, back up, wipe, restore, the data are back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core import backup
from core.errors import UserError
from core.models import AuditEvent, Tenant, User


def _snapshot(session, in_tenant, tenants) -> dict:
    session.close()
    out = {}
    for t in tenants:
        with in_tenant(t):
            out[t.slug] = (
                sorted(session.scalars(select(User.email))),
                session.scalar(select(func.count()).select_from(AuditEvent)),
            )
    session.close()
    return out


def test_backup_wipe_restore_brings_every_tenants_data_back(
        ccas, ccas_database, session, in_tenant, users, other_tenant, make_user, tmp_path):
    make_user(other_tenant, "manager", email="chef@beta.test")
    tenants = [session.get(Tenant, users["manager"].tenant_id), other_tenant]
    before = _snapshot(session, in_tenant, tenants)
    assert before["alpha"][0] and before["beta"][0] == ["chef@beta.test"]

    target = tmp_path / ("backup." + ("sqlite3" if ccas_database.dialect == "sqlite" else "dump"))
    result = ccas("backup", "create", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert "Sauvegarde écrite" in result.output and target.stat().st_size > 0

    ccas_database.empty()  # the disaster
    session.close()
    assert session.scalar(select(func.count()).select_from(Tenant)) == 0
    session.close()  # a transaction left open would hold locks that pg_restore waits for

    result = ccas("backup", "restore", str(target), "--yes")
    assert result.exit_code == 0, result.output
    assert "Sauvegarde restaurée" in result.output

    from core.db import db

    db.engine.dispose()
    assert _snapshot(session, in_tenant, tenants) == before


def test_restore_asks_for_confirmation(ccas, ccas_database, tenant, tmp_path):
    target = tmp_path / "b.bak"
    assert ccas("backup", "create", "--output", str(target)).exit_code == 0
    result = ccas("backup", "restore", str(target), input="n\n")
    assert result.exit_code == 1
    assert "Abandon" in result.output


def test_backup_refuses_to_overwrite_a_file(ccas, tmp_path, tenant):
    target = tmp_path / "exists.bak"
    target.write_bytes(b"precious")
    result = ccas("backup", "create", "--output", str(target))
    assert result.exit_code == 1 and "existe déjà" in result.output
    assert target.read_bytes() == b"precious"


def test_restore_refuses_a_file_that_is_not_a_backup(ccas, tmp_path, tenant, session):
    bogus = tmp_path / "bogus.bak"
    bogus.write_bytes(b"not a backup at all")
    result = ccas("backup", "restore", str(bogus), "--yes")
    assert result.exit_code == 1 and "n'est pas une sauvegarde" in result.output
    session.close()
    assert session.scalar(select(func.count()).select_from(Tenant)) == 1


def test_restore_of_a_missing_file_is_a_clear_error(ccas, tmp_path):
    result = ccas("backup", "restore", str(tmp_path / "nope.bak"), "--yes")
    assert result.exit_code == 1 and "introuvable" in result.output


def test_default_backup_names_carry_the_date_and_the_kind():
    from datetime import UTC, datetime

    now = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    assert backup.default_filename("sqlite:///x.db", now) == "ccas-20260301-083000.sqlite3"
    assert backup.default_filename("postgresql+psycopg://u@h/db", now) == (
        "ccas-20260301-083000.dump")
    with pytest.raises(UserError):
        backup.default_filename("mysql://u@h/db", now)


def test_postgres_password_is_passed_in_the_environment_not_the_command_line():
    env = backup._libpq_env("postgresql+psycopg://owner:s3cret@db.local:5433/ccas", cross=True)
    assert env["PGPASSWORD"] == "s3cret" and env["PGHOST"] == "db.local"
    assert env["PGPORT"] == "5433" and env["PGDATABASE"] == "ccas"
    assert "ccas.cross=on" in env["PGOPTIONS"]
