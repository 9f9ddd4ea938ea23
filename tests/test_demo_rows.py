"""The demo's bulk writer (``core.demo.rows``) and the generator's rounds: ids drawn from
the seed, records completed from the model's defaults, rounds stored by a writer thread
while the next is drawn, the same rows for the same seed, a failed write surfacing."""

from __future__ import annotations

import hashlib
import json
import os
import random
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from core import demo, rawsql, tenancy
from core.demo import rounds as demo_rounds
from core.demo import rows as demo_rows
from core.models import (
    Appointment,
    AuditEvent,
    Case,
    CaseSearchToken,
    CaseTransition,
    Organisation,
    Person,
    Referral,
)
from core.models.organisation import OrganisationKind
from plugins.credit_municipal.models import Loan, Repayment


def test_new_id_is_the_version_4_uuid_of_the_drawn_bits():
    fast, slow = random.Random(7), random.Random(7)
    for _ in range(2000):
        drawn = demo_rows.new_id(fast)
        expected = uuid.UUID(int=slow.getrandbits(128), version=4)
        assert drawn == expected and str(drawn) == str(expected)
        assert hash(drawn) == hash(expected) and drawn.version == 4
        assert drawn.variant == uuid.RFC_4122


def _two_cities(session, seed: int, today: date, workers=(1, 1)):
    """Two tenants with the demo's cast, the same seed (the first drawn by
    ``workers[0]`` processes, the second by ``workers[1]``): what each generated."""
    out = []
    for slug, processes in zip(("rounds-a", "rounds-b"), workers, strict=True):
        tenant, _logins = demo.cast.create_cast(session, slug=slug)
        session.commit()
        summary = demo.generate(session, tenant, seed=seed, years=1,
                                requests_per_year=120, today=today,
                                progress=lambda done, total: session.commit(),
                                workers=processes)
        session.commit()
        with tenancy.tenant_scope(tenant.id):
            cases = session.execute(select(Case.id, Case.reference, Case.state)
                                    .order_by(Case.reference)).all()
            counts = {model.__tablename__: session.scalar(
                select(func.count()).select_from(model))
                for model in (Person, CaseTransition, AuditEvent, Referral)}
            # every generated row of these tables, by its drawn id (the cast's own
            # audit rows and the suggestions' ids are not drawn from the seed)
            for model in (Person, CaseTransition, Referral, Appointment, Loan, Repayment):
                drawn = sorted(str(row_id) for row_id in session.scalars(select(model.id)))
                counts[f"{model.__tablename__} ids"] = hashlib.sha256(
                    "".join(drawn).encode()).hexdigest()
            counts["appointments at once"] = session.execute(
                select(Appointment.starts_at, func.count()).group_by(Appointment.starts_at)
                .having(func.count() > 1)).all()
            # the search tokens (written a case a row on PostgreSQL, spread by the server)
            tokens = sorted(session.execute(select(CaseSearchToken.case_id,
                                                   CaseSearchToken.token)).all())
            counts["case_search_tokens"] = (len(tokens), hashlib.sha256(
                repr([tuple(t) for t in tokens]).encode()).hexdigest())
        out.append((summary, [tuple(c) for c in cases], counts))
    return out


def test_rounds_written_in_the_background_give_the_same_rows_for_the_same_seed(
        app, session, monkeypatch):
    monkeypatch.setattr(demo, "CHUNK", 25)  # 120 requests: five rounds
    rounds = []
    original = demo_rows.Rows.write

    def counting(self, background=False):
        rounds.append(background)
        return original(self, background)

    monkeypatch.setattr(demo_rows.Rows, "write", counting)
    (first, cases_a, counts_a), (second, cases_b, counts_b) = _two_cities(
        session, 11, date(2026, 11, 20))
    assert rounds.count(True) == 2 * 5  # every round of both cities in the background
    assert first.cases == second.cases == 120 == len(cases_a)
    assert cases_a == cases_b  # same ids, references and states in both tenants
    assert counts_a == counts_b and counts_a["audit_events"] >= counts_a["case_transitions"]
    assert counts_a["case_search_tokens"][0] > 10 * 120  # every case's suffixes
    assert first.tables == second.tables and first.tables["cases"] == 120
    assert first.plugins == second.plugins


@pytest.mark.postgres_only
def test_rounds_drawn_by_worker_processes_give_the_rows_one_process_draws(
        app, session, monkeypatch):
    monkeypatch.setattr(demo, "CHUNK", 25)  # 120 requests: five rounds, four by workers
    # fewer cases kept aside than a round holds, as at full size (10,000 and 3,000): a
    # worker sends back only those, and every case of its round for the plugins
    monkeypatch.setattr(demo_rounds, "SAMPLE", 10)
    drawn_apart = []
    original_iter = demo_rounds.Workers.__iter__

    def recording(self):
        for written in original_iter(self):
            drawn_apart.append((written.k, written.pid))
            yield written

    monkeypatch.setattr(demo_rounds.Workers, "__iter__", recording)
    (one, cases_a, counts_a), (two, cases_b, counts_b) = _two_cities(
        session, 11, date(2026, 11, 20), workers=(1, 2))
    assert [k for k, _pid in drawn_apart] == [1, 2, 3, 4]  # in order, each once
    processes = {pid for _k, pid in drawn_apart}
    assert os.getpid() not in processes and 1 <= len(processes) <= 2  # the two workers
    assert one.cases == two.cases == 120 == len(cases_a)
    assert cases_a == cases_b  # same ids, references and states
    assert counts_a == counts_b  # same rows in every table compared
    assert counts_a["appointments at once"] == []  # no slot booked twice across rounds
    assert one.tables == two.tables and one.plugins == two.plugins


def test_worker_processes_are_refused_on_sqlite(app, session, monkeypatch):
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's refusal")
    tenant, _logins = demo.cast.create_cast(session, slug="rounds-sqlite")
    session.commit()
    monkeypatch.setattr(demo, "CHUNK", 20)
    with pytest.raises(ValueError, match="PostgreSQL only"):
        demo.generate(session, tenant, seed=3, years=0.5, requests_per_year=100,
                      today=date(2026, 11, 20), workers=2)


def test_a_failed_background_write_surfaces_and_leaves_nothing(app, session, monkeypatch):
    tenant, _logins = demo.cast.create_cast(session, slug="rounds-fail")
    session.commit()
    monkeypatch.setattr(demo, "CHUNK", 20)

    def refuse(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo_rows.rawsql, "bulk_insert", refuse)
    with pytest.raises(RuntimeError, match="disk full"):
        demo.generate(session, tenant, seed=3, years=0.5, requests_per_year=100,
                      today=date(2026, 11, 20))
    session.rollback()
    with tenancy.tenant_scope(tenant.id):
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_bulk_insert_stores_json_enums_nulls_and_defaults_as_the_orm_reads_them(
        session, tenant, in_tenant):
    """``core.rawsql.bulk_insert`` (COPY through a temporary table on PostgreSQL,
    ``executemany`` on SQLite): JSON columns, enum members and values, NULLs and the
    model's defaults read back as the ORM wrote them; an unknown enum value is refused."""
    rng = random.Random(5)
    detail = {"motif": "été", "lignes": [1, None, "x"], "montant": "12.50"}
    with in_tenant(tenant):
        tenancy.carry(session)
        audit_id = demo_rows.new_id(rng)
        demo_rows.insert_rows(session, AuditEvent, [
            {"id": audit_id, "actor": "cli", "action": "bulk.check", "detail": detail,
             "ip": None}])
        by_member, by_value = demo_rows.new_id(rng), demo_rows.new_id(rng)
        demo_rows.insert_rows(session, Organisation, [
            {"id": by_member, "name": "Par membre", "kind": OrganisationKind.funder},
            {"id": by_value, "name": "Par valeur", "kind": "association"}])
        audit = session.scalars(select(AuditEvent).where(AuditEvent.id == audit_id)).one()
        assert audit.detail == detail and audit.ip is None
        assert audit.object_type == "" and audit.at is not None  # the model's defaults
        kinds = dict(session.execute(select(Organisation.id, Organisation.kind).where(
            Organisation.id.in_([by_member, by_value]))).all())
        assert kinds == {by_member: OrganisationKind.funder,
                         by_value: OrganisationKind.association}
        with pytest.raises(ValueError, match="nonsense"):
            demo_rows.insert_rows(session, Organisation, [
                {"id": demo_rows.new_id(rng), "name": "Inconnue", "kind": "nonsense"}])
    session.rollback()


def test_bulk_insert_stores_every_uuid_as_given(session, tenant, in_tenant):
    """UUIDs travel in ``COPY`` text as their 32 hex digits (``core.rawsql``'s dumper):
    the smallest, the largest and drawn ones read back equal."""
    rng = random.Random(9)
    ids = [uuid.UUID(int=1), uuid.UUID(int=2**128 - 1), uuid.UUID(int=0x0F << 120),
           *(demo_rows.new_id(rng) for _ in range(5))]
    with in_tenant(tenant):
        tenancy.carry(session)
        demo_rows.insert_rows(session, Organisation, [
            {"id": i, "name": f"Organisme {n}", "kind": OrganisationKind.funder}
            for n, i in enumerate(ids)])
        stored = set(session.scalars(select(Organisation.id).where(
            Organisation.id.in_(ids))))
        assert stored == set(ids)
    session.rollback()


def test_compact_json_is_json_dumps_without_spaces():
    for value in ({"motif": "été", "n": [1, 2.5, None, True]}, [], "\u2028", {"a": {}}):
        assert rawsql._compact_json(value) == json.dumps(value, separators=(",", ":"))
