"""Retention and anonymisation of the people the CCAS helped (RGPD).

Retention: ``tenant.settings["privacy"]["retention_months"]`` (default 24, the CNIL guide
for social services: 2 years after the last contact, ``Person.last_contact_at``). A
person whose file holds an open loan (a case in signing, withdrawal period, disbursed or
repaying, or a plugin's hold such as a Crédit Municipal loan not repaid) is kept.

:func:`anonymise_person` applies the registry (``core.privacy.registry``) to every row of
the person: names become "Anonymisé", contact details NULL, notes and free texts blank,
attachments and messages to the person deleted, audit details naming the person
rewritten; coded values, dates of the requests, amounts and transitions stay, so the
yearly review gives the same figures. Services never commit: the CLI or the view does.
The one exception is the audit trail (append-only for the application), rewritten on the
owner's connection in its own transaction *before* the other changes: a failure later
leaves the person not anonymised, and the next purge does it again.

Referrals that never became a case (declined, expired, or accepted by a partner: no
``case_id`` and no ``source_case_id``) belong to no person: :func:`due_referrals` finds
those whose last activity is past retention and the purge anonymises each one with the same
registry actions (names, birth date, contact details, note, plugin fields, status messages;
attachments and the messages and webhooks that carried them deleted), keeping the partner
organisations, status, purpose, amount and dates that the reports count.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select

from .. import audit, clock, rawsql
from ..db import make_engine
from ..errors import UserError
from ..models import (
    AuditEvent,
    Base,
    Case,
    IdempotencyKey,
    OutboxMessage,
    Person,
    Referral,
    utcnow,
)
from .registry import ANONYMISED, PersonalData, descriptors

DEFAULT_RETENTION_MONTHS = 24
#: Shorter values are not searched outside the person's own rows (too many false hits).
MIN_SEARCH_LENGTH = 4


def retention_months(tenant) -> int:
    raw = ((getattr(tenant, "settings", None) or {}).get("privacy") or {}).get(
        "retention_months", DEFAULT_RETENTION_MONTHS)
    try:
        months = int(raw)
    except (TypeError, ValueError):
        return DEFAULT_RETENTION_MONTHS
    return months if months > 0 else DEFAULT_RETENTION_MONTHS


def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` minus ``months`` calendar months (day clamped to the month's end)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


def cutoff(tenant, now: datetime | None = None) -> datetime:
    """People whose last contact is before this moment are past retention."""
    return months_before(now or utcnow(), retention_months(tenant))


# -- the person's rows -------------------------------------------------------------------


def model_of(table: str):
    for mapper in Base.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == table:
            return mapper.class_
    return None


def linked_ids(session, person_id: uuid.UUID, registry=None) -> dict[str, set]:
    """Ids of the rows of every table linked to the person (fixpoint over ``links``)."""
    return linked_rows(session, {"persons": {person_id}}, registry)


def linked_rows(session, seed: dict[str, set], registry=None) -> dict[str, set]:
    """Ids of the rows of every table linked to the ``seed`` rows (``{table: ids}``), by a
    fixpoint over ``links``: ``{"referrals": {id}}`` gives the referral's status changes and
    attachments (and any plugin row linked to it)."""
    registry = registry or descriptors()
    found: dict[str, set] = {table: set(ids) for table, ids in seed.items()}
    changed = True
    while changed:
        changed = False
        for d in registry.values():
            model = model_of(d.table)
            if model is None or not d.links or d.table == "persons":
                continue
            for column, target in d.links:
                targets = found.get(target)
                if not targets:
                    continue
                ids = set(session.scalars(
                    select(model.id).where(getattr(model, column).in_(list(targets)))))
                new = ids - found.get(d.table, set())
                if new:
                    found.setdefault(d.table, set()).update(new)
                    changed = True
    return found


def hold_reasons(session, ids: dict[str, set], registry=None) -> list[str]:
    """Legal reasons to keep the person's data (an open loan), in French; empty: none."""
    registry = registry or descriptors()
    reasons = []
    for d in registry.values():
        if not d.hold_column or not ids.get(d.table):
            continue
        model = model_of(d.table)
        held = session.scalar(
            select(model.id).where(model.id.in_(list(ids[d.table])),
                                   getattr(model, d.hold_column).in_(d.hold_values)).limit(1))
        if held is not None and d.hold_reason not in reasons:
            reasons.append(d.hold_reason)
    return reasons


def rows_of(session, d: PersonalData, ids: set):
    model = model_of(d.table)
    if model is None or not ids:
        return []
    return session.scalars(select(model).where(model.id.in_(list(ids)))).all()


def personal_values(session, person: Person | Referral, ids: dict[str, set],
                    registry=None) -> set[str]:
    """The personal values of ``person`` (or of a referral that never became a case) and of
    its linked rows, as text (searched and scrubbed elsewhere)."""
    registry = registry or descriptors()
    values: set[str] = set()

    def add(value):
        if value is None:
            return
        if isinstance(value, date):
            values.update({value.isoformat(), value.strftime("%d/%m/%Y")})
        elif isinstance(value, str) and value.strip() and value != ANONYMISED:
            values.add(value.strip())

    add(f"{person.first_name or ''} {person.last_name or ''}".strip())
    for d in registry.values():
        if d.table == "audit_events":
            continue
        for row in rows_of(session, d, ids.get(d.table, set())):
            for column, action in d.personal.items():
                if action in ("empty", "scrub") or column in ("content",):
                    continue
                add(getattr(row, column, None))
    return values


def _contains(text: str, values, min_length: int = 1) -> bool:
    lowered = text.lower()
    return any(len(v) >= min_length and v.lower() in lowered for v in values)


def scrub(value, values: set[str]):
    """``value`` (JSON) with every string containing a personal value replaced."""
    if isinstance(value, str):
        return ANONYMISED if _contains(value, values) else value
    if isinstance(value, dict):
        return {k: scrub(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, values) for v in value]
    return value


def pseudo_birth_date(born: date | None, intake_dates) -> date | None:
    """A date of the same year as ``born`` giving the same age in whole years on every
    date of ``intake_dates`` (the age bands of the reports stay exact): the day after the
    latest request anniversary before the birthday, or 1 January."""
    if born is None:
        return None
    birthday = (born.month, born.day)
    before = sorted({(d.month, d.day) for d in intake_dates if (d.month, d.day) < birthday})
    if not before:
        return date(born.year, 1, 1)
    month, day = before[-1]
    try:
        anniversary = date(born.year, month, day)
    except ValueError:  # 29 February of a common year: the day after is 1 March
        return date(born.year, 3, 1)
    return anniversary + timedelta(days=1)


def _apply(row, d: PersonalData, values: set[str], intake_dates) -> bool:
    """Anonymise ``row`` in place; True when something changed."""
    changed = False
    for column, action in d.personal.items():
        current = getattr(row, column, None)
        if action == "name":
            new = ANONYMISED
        elif action == "blank":
            new = ""
        elif action == "null":
            new = None
        elif action == "empty":
            new = {} if isinstance(current, dict) else []
        elif action == "birth_date":
            new = pseudo_birth_date(current, intake_dates)
        elif action == "scrub":
            new = scrub(current, values)
        else:
            continue
        if new != current:
            setattr(row, column, new)
            changed = True
    return changed


@dataclass
class Result:
    """What an anonymisation touched: rows per table."""

    rows: Counter = field(default_factory=Counter)

    def merge(self, other: Result) -> None:
        self.rows.update(other.rows)


def outbox_rows(session, person: Person | Referral, ids: dict[str, set], values: set[str]):
    """Outbox messages (e-mails, webhooks; queued, sent or dead) to ``person``'s address
    or naming one of its rows (topic ``referral:<id>:…``, webhook ``data.id``) or one of
    ``values``. The address counts only while it is one of ``values`` (see
    :func:`still_held`)."""
    id_strings = {str(i) for group in ids.values() for i in group}
    email = (person.email or "").strip().lower()
    if email not in {v.lower() for v in values}:
        email = ""
    out = []
    for message in session.scalars(select(OutboxMessage)):
        payload = json.dumps(message.payload or {}, ensure_ascii=False, default=str)
        text = " ".join((message.recipient or "", message.subject or "", message.topic or "",
                         message.last_error or "", payload))
        if (email and (message.recipient or "").strip().lower() == email) \
                or _contains(text, id_strings) or _contains(text, values, MIN_SEARCH_LENGTH):
            out.append(message)
    return out


def _idempotency_rows(session, values: set[str], now: datetime):
    out = []
    for key in session.scalars(select(IdempotencyKey)):
        if key.expires_at < now or _contains(key.response_body or "", values, MIN_SEARCH_LENGTH):
            out.append(key)
    return out


def audit_index(session) -> list[tuple]:
    """``(id, detail, lowered JSON text)`` of the audit rows with a detail, read once per
    purge: details may name a person without pointing at one of its rows."""
    out = []
    for event_id, detail in session.execute(select(AuditEvent.id, AuditEvent.detail)):
        if detail:
            out.append((event_id, detail, _lowered(detail)))
    return out


def _lowered(detail) -> str:
    return json.dumps(detail, ensure_ascii=False, default=str).lower()


def _audit_rewrites(session, ids: dict[str, set], values: set[str], index=None,
                    pending: dict | None = None) -> dict:
    """``{audit row id: new detail}`` for the rows of ``ids`` and the details naming one
    of ``values``. ``pending`` holds the details already rewritten by the plans made
    before in the same purge: a row named by two plans gets both rewrites."""
    pending = {} if pending is None else pending
    id_strings = [str(i) for group in ids.values() for i in group]
    rewrites = {}
    for start in range(0, len(id_strings), 500):
        chunk = id_strings[start:start + 500]
        for event in session.scalars(select(AuditEvent).where(AuditEvent.object_id.in_(chunk))):
            base = pending.get(event.id, event.detail or {})
            new = scrub(base, values)
            if new != base:
                rewrites[event.id] = new
    long_values = {v for v in values if len(v) >= MIN_SEARCH_LENGTH}
    searched = [v.lower() for v in long_values]
    if searched:
        for event_id, detail, text in (audit_index(session) if index is None else index):
            if event_id in rewrites:
                continue
            if event_id in pending:
                detail = pending[event_id]
                text = _lowered(detail)
            if any(v in text for v in searched):
                new = scrub(detail, long_values)
                if new != detail:
                    rewrites[event_id] = new
    return rewrites


def owner_engine():
    """The owner's engine (``CCAS_DATABASE_OWNER_URL``), created once per application."""
    url = current_app.config["CCAS_DATABASE_OWNER_URL"]
    if url == current_app.config["CCAS_DATABASE_URL"]:
        return current_app.extensions["ccas_engine"]
    engine = current_app.extensions.get("ccas_owner_engine")
    if engine is None:
        engine = current_app.extensions["ccas_owner_engine"] = make_engine(url)
    return engine


@dataclass
class Plan:
    """What anonymising one person (or one referral that never became a case) will
    change, computed before anything is written.

    ``values`` are all the subject's personal values (scrubbed from its own rows);
    ``searched`` those looked for in rows not linked to it (outbox, audit details, API
    replays): the same, less the values a live file still holds (:func:`still_held`).
    """

    subject: Person | Referral
    ids: dict[str, set]
    values: set[str]
    intake_dates: list[date]
    audit_rewrites: dict
    searched: set[str] | None = None

    def __post_init__(self):
        if self.searched is None:
            self.searched = set(self.values)

    @property
    def person(self) -> Person | None:
        return self.subject if isinstance(self.subject, Person) else None


def plan(session, person: Person, registry=None, index=None, pending=None) -> Plan:
    """Read everything the anonymisation of ``person`` needs; raise ``UserError`` (409)
    with the French reason when a legal reason keeps the data (an open loan)."""
    registry = registry or descriptors()
    ids = linked_ids(session, person.id, registry)
    held = hold_reasons(session, ids, registry)
    if held:
        raise UserError("Effacement impossible : " + " ; ".join(held) + ".", status=409)
    values = personal_values(session, person, ids, registry)
    intake_dates = list(session.scalars(
        select(Case.intake_date).where(Case.person_id == person.id)))
    return Plan(person, ids, values, intake_dates,
                _audit_rewrites(session, ids, values, index, pending))


def still_held(session, referral: Referral, values: set[str], *,
               skip_persons=(), skip_referrals=()) -> set[str]:
    """The values of ``values`` that a live file also holds: a person not anonymised (and
    not in ``skip_persons``, anonymised by the same purge) or a referral not purged now
    (not in ``skip_referrals``) with the same name, full name, birth date, phone, e-mail or
    note. The same person may have been referred again and be followed today: scrubbing
    those values from the audit trail or deleting the messages naming them would damage
    that live file, and would erase nothing (the live file keeps them)."""
    if not values:
        return set()
    held: set[str] = set()
    people = [Person.anonymised_at.is_(None)]
    if skip_persons:
        people.append(Person.id.not_in(list(skip_persons)))
    others = [Referral.id.not_in(list(skip_referrals))] if skip_referrals else []
    listed = list(values)
    for model, live, columns in (
        (Person, people, ("first_name", "last_name", "phone", "email")),
        (Referral, others, ("first_name", "last_name", "phone", "email", "note")),
    ):
        for name in columns:
            column = getattr(model, name)
            held.update(session.scalars(
                select(column).where(column.in_(listed), *live).distinct()))
        full = session.scalar(select(model.id).where(
            model.first_name == referral.first_name, model.last_name == referral.last_name,
            *live).limit(1))
        if full is not None:
            held.add(f"{referral.first_name} {referral.last_name}".strip())
        if referral.birth_date is not None and session.scalar(select(model.id).where(
                model.birth_date == referral.birth_date, *live).limit(1)) is not None:
            held.update({referral.birth_date.isoformat(),
                         referral.birth_date.strftime("%d/%m/%Y")})
    return held & values


def plan_referral(session, referral: Referral, registry=None, index=None, pending=None, *,
                  skip_persons=(), skip_referrals=()) -> Plan:
    """Read everything the anonymisation of a referral that never became a case needs:
    its rows (status changes, attachments, plugin rows linked to it), its values, the
    values searched elsewhere (less those a live file holds, :func:`still_held`) and the
    audit rewrites. ``UserError`` (409) if a plugin's row linked to it holds the data."""
    registry = registry or descriptors()
    ids = linked_rows(session, {"referrals": {referral.id}}, registry)
    held = hold_reasons(session, ids, registry)
    if held:
        raise UserError("Effacement impossible : " + " ; ".join(held) + ".", status=409)
    values = personal_values(session, referral, ids, registry)
    searched = values - still_held(session, referral, values, skip_persons=skip_persons,
                                   skip_referrals=skip_referrals)
    return Plan(referral, ids, values, [],
                _audit_rewrites(session, ids, searched, index, pending), searched)


def rewrite_audit(plans: list[Plan]) -> None:
    """Commit the audit rewrites of ``plans`` on the owner's connection (see the module
    docstring: before the session writes anything). A later plan's rewrite of a row
    already includes the earlier ones (``pending`` in :func:`_audit_rewrites`)."""
    by_tenant: dict[int, dict] = {}
    for p in plans:
        by_tenant.setdefault(p.subject.tenant_id, {}).update(p.audit_rewrites)
    if not any(by_tenant.values()):
        return
    with owner_engine().begin() as conn:
        for tenant_id, rewrites in by_tenant.items():
            rawsql.rewrite_audit_details(conn, tenant_id, rewrites)


def apply(session, p: Plan, *, dry_run: bool = False, actor=None, reason: str = "retention",
          now: datetime | None = None, registry=None) -> Result:
    """Anonymise the rows of ``p.subject`` in the session (never commits)."""
    registry = registry or descriptors()
    now = now or utcnow()
    subject, values, intake_dates = p.subject, p.values, p.intake_dates
    result = Result()
    result.rows["audit_events"] += len(p.audit_rewrites)
    outbox = outbox_rows(session, subject, p.ids, p.searched)
    replays = _idempotency_rows(session, p.searched, now)
    for d in registry.values():
        if not d.links:
            continue
        deletes = "delete" in d.personal.values()
        for row in rows_of(session, d, p.ids.get(d.table, set())):
            if deletes:
                result.rows[d.table] += 1
                if not dry_run:
                    session.delete(row)
            elif dry_run:
                if _would_change(row, d, values, intake_dates):
                    result.rows[d.table] += 1
            elif _apply(row, d, values, intake_dates):
                result.rows[d.table] += 1
    for row in (*outbox, *replays):
        result.rows[row.__tablename__] += 1
        if not dry_run:
            session.delete(row)
    if not dry_run:
        rows = {k: v for k, v in sorted(result.rows.items())}
        if isinstance(subject, Person):
            subject.anonymised_at = now
            session.flush()
            audit.record(session, "person.anonymise", subject, actor=actor, reason=reason,
                         rows=rows)
        else:
            session.flush()
            audit.record(session, "referral.anonymise", subject, actor=actor, reason=reason,
                         rows=rows)
    return result


def anonymise_person(session, person: Person, *, dry_run: bool = False, actor=None,
                     reason: str = "erasure", now: datetime | None = None) -> Result:
    """Anonymise one person now (the manager's erasure). ``UserError`` (409) when a legal
    reason keeps the data. Call it before the session writes anything (the audit rewrite
    is committed first on the owner's connection); the caller commits."""
    registry = descriptors()
    p = plan(session, person, registry)
    if not dry_run:
        rewrite_audit([p])
    return apply(session, p, dry_run=dry_run, actor=actor, reason=reason, now=now,
                 registry=registry)


def anonymise_referrals(session, referrals, *, dry_run: bool = False, actor=None,
                        reason: str = "erasure", now: datetime | None = None) -> Result:
    """Anonymise now referrals that never became a case (the manager's erasure for a person
    only ever referred), exactly as the purge does past retention: every plan is made
    first (:func:`plan_referral`; values another of ``referrals`` holds are not spared),
    ``UserError`` (409) if any is held, then the audit rewrite is committed on the owner's
    connection and each referral anonymised in the session. The caller commits."""
    registry = descriptors()
    referrals = list(referrals)
    if any(r.case_id is not None or r.source_case_id is not None for r in referrals):
        raise ValueError("only referrals without case: the others follow their person")
    skip = {r.id for r in referrals}
    index = audit_index(session) if referrals else []
    plans, pending = [], {}
    for referral in referrals:
        p = plan_referral(session, referral, registry, index, pending, skip_referrals=skip)
        plans.append(p)
        pending.update(p.audit_rewrites)
    if not dry_run:
        rewrite_audit(plans)
    result = Result()
    for p in plans:
        result.merge(apply(session, p, dry_run=dry_run, actor=actor, reason=reason, now=now,
                           registry=registry))
    # A row rewritten for two plans is one row touched.
    if pending:
        result.rows["audit_events"] = len(pending)
    return result


def _would_change(row, d: PersonalData, values, intake_dates) -> bool:
    probe = type("Probe", (), {})()
    for column in d.personal:
        setattr(probe, column, getattr(row, column, None))
    return _apply(probe, d, values, intake_dates)


# -- the tenant's purge ------------------------------------------------------------------


@dataclass
class PurgeSummary:
    due: int = 0
    anonymised: int = 0
    kept: dict[str, int] = field(default_factory=dict)  # reason -> persons kept
    rows: Counter = field(default_factory=Counter)
    #: Referrals that never became a case: past retention, and anonymised.
    referrals_due: int = 0
    referrals: int = 0


def due_persons(session, tenant, now: datetime | None = None) -> list[Person]:
    """People past retention, not anonymised yet (with or without a hold)."""
    limit = cutoff(tenant, now)
    return list(session.scalars(
        select(Person).where(Person.anonymised_at.is_(None), Person.last_contact_at < limit)
        .order_by(Person.last_contact_at, Person.id)))


def referral_past_retention(limit: datetime):
    """SQL condition: a referral that never became a case (no case opened by it, not the
    reorientation of a case: those follow their person), whose last activity is before
    ``limit``, not anonymised yet.

    Last activity: ``updated_at``, which every write of the referral moves (submission,
    each status change); ``created_at``, ``status_changed_at`` and a reminder
    (``reminded_at``) must be before ``limit`` too, so that no path that moves only one of
    them can make a referral due early."""
    return and_(
        Referral.case_id.is_(None), Referral.source_case_id.is_(None),
        Referral.updated_at < limit, Referral.status_changed_at < limit,
        Referral.created_at < limit,
        or_(Referral.reminded_at.is_(None), Referral.reminded_at < limit),
        or_(Referral.first_name != ANONYMISED, Referral.last_name != ANONYMISED),
    )


def due_referrals(session, tenant, now: datetime | None = None) -> list[Referral]:
    """Referrals that never became a case, past retention, not anonymised yet (see
    :func:`referral_past_retention`)."""
    return list(session.scalars(
        select(Referral).where(referral_past_retention(cutoff(tenant, now)))
        .order_by(Referral.updated_at, Referral.id)))


def purge(session, tenant, *, dry_run: bool = False, now: datetime | None = None,
          progress=None, actor=None) -> PurgeSummary:
    """Anonymise everyone past retention, then the referrals past retention that never
    became a case (``progress(person or referral)`` after each one). Never commits the
    session; with ``dry_run`` nothing is written (the caller rolls back)."""
    now = now or clock.now()
    registry = descriptors()
    summary = PurgeSummary()
    persons = due_persons(session, tenant, now)
    referrals = due_referrals(session, tenant, now)
    summary.due = len(persons)
    summary.referrals_due = len(referrals)
    plans = []
    pending: dict = {}
    index = audit_index(session) if persons or referrals else []

    def attempt(subject, make_plan) -> None:
        """Plan ``subject``'s purge; a legal reason to keep it is counted, not fatal."""
        try:
            p = make_plan(subject)
        except UserError as exc:
            summary.kept[exc.message] = summary.kept.get(exc.message, 0) + 1
            if progress is not None:
                progress(subject)
            return
        plans.append(p)
        pending.update(p.audit_rewrites)

    for person in persons:
        attempt(person, lambda s: plan(session, s, registry, index, pending))
    skip_persons = {p.subject.id for p in plans}
    skip_referrals = {r.id for r in referrals}
    for referral in referrals:
        attempt(referral, lambda s: plan_referral(
            session, s, registry, index, pending,
            skip_persons=skip_persons, skip_referrals=skip_referrals))
    if not dry_run:
        rewrite_audit(plans)
    for p in plans:
        result = apply(session, p, dry_run=dry_run, actor=actor, reason="retention", now=now,
                       registry=registry)
        if isinstance(p.subject, Person):
            summary.anonymised += 1
        else:
            summary.referrals += 1
        summary.rows.update(result.rows)
        if progress is not None:
            progress(p.subject)
    # A row rewritten for two plans is one row touched.
    summary.rows["audit_events"] = len(pending)
    if not summary.rows["audit_events"]:
        del summary.rows["audit_events"]
    return summary
