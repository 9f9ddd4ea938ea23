"""A city's data leaves, arrives and is restored on its own (``core.portability``):
export, delete and import put every row back (the yearly review with it) and never touch
another city; a damaged, foreign or newer archive is refused with nothing written; one
city is restored from a whole-platform backup while the others keep what they have."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import uuid
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from core import rawsql, tenancy
from core.db import db
from core.models import Case, Person, Tenant
from core.portability.archive import TRANSIENT_TABLES, Manifest, row_line
from core.portability.export import tenant_tables
from core.reports.yearly import build_report
from core.testing.pytest_plugin import _in_tenant, _password_hash

from .authz_world import build_world

#: Columns that a move to another deployment changes by design.
MOVED = {"tenant_id"}


@pytest.fixture
def world(app, tmp_path):
    """Two cities with everything (cases in every state, loans, referrals with
    attachments, documents, appointments, workshops, accompaniment, audit…)."""
    (tmp_path / "imports").mkdir()
    built = build_world(db.session, _in_tenant, _password_hash(), tmp_path / "imports")
    db.session.commit()
    return built


#: The audit rows the moves write about themselves.
OWN_EVENTS = ("tenant.export", "tenant.import")


def digest(tenant_id: int, transient: bool = False) -> dict[str, str]:
    """Every row of the tenant, table by table, as a SHA-256 of its sorted JSON lines
    (``tenant_id`` left out: an import gives the city this deployment's id; the audit
    rows of the export and import themselves left out)."""
    out = {}
    with _in_tenant(db.session.get(Tenant, tenant_id)):
        for table in tenant_tables(transient=transient):
            stmt = select(table).where(table.c.tenant_id == tenant_id)
            if table.name == "audit_events":
                stmt = stmt.where(table.c.action.not_in(OWN_EVENTS))
            rows = db.session.execute(stmt)
            lines = sorted(json.dumps({k: v for k, v in json.loads(
                row_line(table, r._mapping)).items() if k not in MOVED}, sort_keys=True)
                for r in rows)
            out[table.name] = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return out


def review(slug: str, year: int) -> dict:
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    with _in_tenant(tenant):
        report = build_report(db.session, tenant, year)
    db.session.rollback()
    return {k: v for k, v in report.items() if k not in ("tenant",)}


def tenant_of(slug: str) -> Tenant | None:
    db.session.expire_all()
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def test_export_delete_import_puts_every_row_and_the_review_back(world, ccas, tmp_path):
    alpha, beta = world["alpha"], world["beta"]
    year = alpha.ids["year"]
    before, beta_before = digest(alpha.tenant.id), digest(beta.tenant.id)
    review_before = review("alpha", year)
    archive = tmp_path / "alpha.zip"

    result = ccas("tenant", "export", "alpha", "--output", archive)
    assert result.exit_code == 0, result.output
    assert "Territoire alpha exporté" in result.output
    manifest = Manifest.from_json(zipfile.ZipFile(archive).read("manifest.json").decode())
    assert manifest.tenant["slug"] == "alpha" and manifest.tables["cases"]["rows"] > 5
    assert not set(manifest.tables) & TRANSIENT_TABLES

    dry = ccas("tenant", "delete", "alpha", "--dry-run")
    assert dry.exit_code == 0 and "Rien n'a été supprimé" in dry.output
    assert tenant_of("alpha") is not None
    gone = ccas("tenant", "delete", "alpha", "--yes")
    assert gone.exit_code == 0, gone.output
    assert tenant_of("alpha") is None
    with _in_tenant(beta.tenant):
        assert digest(beta.tenant.id) == beta_before

    back = ccas("tenant", "import", archive)
    assert back.exit_code == 0, back.output
    imported = tenant_of("alpha")
    assert digest(imported.id) == before
    assert review("alpha", year) == review_before
    assert digest(beta.tenant.id) == beta_before


def test_a_damaged_archive_is_refused_and_nothing_is_written(world, ccas, tmp_path):
    archive, damaged = tmp_path / "alpha.zip", tmp_path / "damaged.zip"
    assert ccas("tenant", "export", "alpha", "--output", archive).exit_code == 0
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "tables/cases.jsonl":
                data = data.replace(b"mobility", b"housing", 1)
            dst.writestr(item, data)
    tenants = db.session.scalar(select(func.count()).select_from(Tenant))
    result = ccas("tenant", "import", damaged, "--slug", "gamma")
    assert result.exit_code == 1 and "somme de contrôle de la table cases" in result.output
    assert db.session.scalar(select(func.count()).select_from(Tenant)) == tenants


@pytest.mark.parametrize("change, message", [
    ({"format_version": 99}, "Version d'archive 99 non prise en charge"),
    ({"schema_heads": ["0001"]}, "autre schéma de base"),
    ({"format": "something-else"}, "pas une archive de territoire"),
])
def test_an_archive_of_another_version_or_schema_is_refused(world, ccas, tmp_path, change,
                                                            message):
    archive, other = tmp_path / "alpha.zip", tmp_path / "other.zip"
    assert ccas("tenant", "export", "alpha", "--output", archive).exit_code == 0
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(other, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "manifest.json":
                data = json.dumps({**json.loads(data), **change}).encode()
            dst.writestr(item, data)
    result = ccas("tenant", "import", other, "--slug", "gamma")
    assert result.exit_code == 1 and message in result.output
    assert tenant_of("gamma") is None


def test_a_copy_keeps_its_ids_apart_from_the_original_or_takes_new_ones(world, ccas,
                                                                       tmp_path):
    """Keys lead with the tenant: a copy under another slug keeps the archive's ids
    without touching the original; ``--new-ids`` gives every row a new one."""
    archive = tmp_path / "alpha.zip"
    assert ccas("tenant", "export", "alpha", "--output", archive).exit_code == 0
    kept = ccas("tenant", "import", archive, "--slug", "alpha-copie")
    assert kept.exit_code == 0, kept.output
    renewed = ccas("tenant", "import", archive, "--slug", "alpha-neuve", "--new-ids")
    assert renewed.exit_code == 0, renewed.output
    ids = {}
    for slug in ("alpha", "alpha-copie", "alpha-neuve"):
        with _in_tenant(tenant_of(slug)):
            ids[slug] = set(db.session.scalars(select(Case.id)))
    assert ids["alpha-copie"] == ids["alpha"] and len(ids["alpha"]) > 5
    assert len(ids["alpha-neuve"]) == len(ids["alpha"])
    assert not ids["alpha-neuve"] & ids["alpha"]
    assert digest(tenant_of("alpha-copie").id) == digest(tenant_of("alpha").id)


def test_the_export_is_in_the_citys_audit_trail_and_reads_no_other_city(world, ccas,
                                                                        tmp_path):
    from core.models import AuditEvent

    archive = tmp_path / "alpha.zip"
    assert ccas("tenant", "export", "alpha", "--output", archive).exit_code == 0
    with zipfile.ZipFile(archive) as z:
        everything = b"".join(z.read(n) for n in z.namelist())
    for marker in world["beta"].markers.values():
        assert marker.encode() not in everything
    with _in_tenant(tenant_of("alpha")):
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "tenant.export")) == 1


def _scratch_database(ccas_database):
    """PostgreSQL: an empty database of the owner for the restore (dropped after)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from core import rawsql
    from core.testing.pytest_plugin import OWNER_ROLE

    name = f"ccas_scratch_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ccas_database.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        rawsql.create_database(conn, name, OWNER_ROLE)
    url = make_url(ccas_database.owner_url).set(database=name).render_as_string(
        hide_password=False)

    def drop():
        with admin.connect() as conn:
            rawsql.drop_database(conn, name)
        admin.dispose()

    return url, drop


def test_one_city_is_restored_from_a_platform_backup_and_the_others_keep_theirs(
        world, ccas, tmp_path, ccas_database):
    from core import cases

    alpha, beta = world["alpha"], world["beta"]
    before = digest(alpha.tenant.id, transient=True)
    backup = tmp_path / "platform.backup"
    assert ccas("backup", "create", "--output", backup).exit_code == 0
    for tw in (alpha, beta):  # both cities go on working after the backup
        with _in_tenant(tw.tenant):
            person = cases.create_person(db.session, cases.PersonData("Après", "Sauvegarde"))
            cases.open_case(db.session, person, "mobility", "900", tenant=tw.tenant)
            db.session.commit()
    beta_after = digest(beta.tenant.id, transient=True)
    args = ["backup", "restore-tenant", backup, "--tenant", "alpha", "--yes"]
    drop = None
    if ccas_database.dialect == "postgresql":
        scratch, drop = _scratch_database(ccas_database)
        args += ["--scratch-url", scratch]
    try:
        result = ccas(*args)
    finally:
        if drop is not None:
            drop()
    assert result.exit_code == 0, result.output
    restored = tenant_of("alpha")
    assert restored.id == alpha.tenant.id  # the same city, its API tokens still valid
    assert digest(restored.id, transient=True) == before
    assert digest(beta.tenant.id, transient=True) == beta_after
    with _in_tenant(beta.tenant):
        assert db.session.scalar(select(func.count()).select_from(Person).where(
            Person.last_name == "Sauvegarde")) == 1


def test_deleting_a_tenant_removes_its_audit_trail_with_the_owners_rights(world, ccas):
    """The application role may not delete audit rows; the deletion runs as the owner."""
    assert ccas("tenant", "delete", "beta", "--yes").exit_code == 0
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            rawsql.set_tenant_guc(conn, str(world["beta"].tenant.id), "", tenancy.wall_key())
        left = conn.execute(text("SELECT count(*) FROM audit_events WHERE tenant_id = :t"),
                            {"t": world["beta"].tenant.id}).scalar()
    assert left == 0


def test_the_deployment_guides_recipe_runs_as_written(world, ccas, tmp_path, monkeypatch,
                                                      ccas_database):
    """docs/deployment.md, "A city's data": the recipe's commands, the test city for
    "lyon", in a folder of their own; every row comes back."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "deployment.md").read_text(
        encoding="utf-8")
    block = re.search(r"<!-- recipe: city-data -->\s*```sh\n(.*?)```", text, re.S).group(1)
    before = digest(world["alpha"].tenant.id)
    monkeypatch.chdir(tmp_path)
    drop = None
    try:
        for line in filter(str.strip, block.splitlines()):
            words = [w.replace("lyon", "alpha") for w in shlex.split(line)]
            assert words[0] == "ccas"
            if "restore-tenant" in words and ccas_database.dialect == "postgresql":
                scratch, drop = _scratch_database(ccas_database)
                words += ["--scratch-url", scratch]
            result = ccas(*words[1:])
            assert result.exit_code == 0, f"{line}\n{result.output}"
    finally:
        if drop is not None:
            drop()
    assert digest(tenant_of("alpha").id) == before
