"""Importing a city's legacy spreadsheet of requests, all or nothing by default.

:func:`run_import` reads the file, validates every row, then (unless it is a dry run, or
some row is invalid without ``skip_invalid``) writes the new cases in batches through
``core.rawsql.bulk_insert``: persons, cases and their dated transitions, stamped with the
current tenant (checked there, and again by PostgreSQL's row-level security). A row
already imported (same ``import_key``) is skipped, so re-importing a file creates nothing
new. Nothing is committed here: the CLI or the page commits once.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from .. import audit, case_search, clock, rawsql, tenancy
from ..cases import local_today
from ..errors import UserError
from ..models import Case, CaseTransition, Person
from ..workflow import destinations
from . import columns as col
from .reading import Table, read_table
from .rows import ImportRow, RowError, validate_row

BATCH = 2000
PREVIEW_ROWS = 10


@dataclass
class ImportResult:
    filename: str
    total: int = 0
    valid: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    #: rows whose import key exists already (imported before): nothing is written for them
    already_imported: int = 0
    created: int = 0
    persons_created: int = 0
    written: bool = False
    dry_run: bool = False
    skip_invalid: bool = False
    headers: list[str] = field(default_factory=list)
    columns: dict[str, int] = field(default_factory=dict)
    ignored_headers: list[str] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)
    rejected: dict[int, list] = field(default_factory=dict)
    cells: dict[int, list] = field(default_factory=dict)

    @property
    def rejected_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})

    @property
    def to_create(self) -> int:
        return len(self.valid) - self.already_imported

    def summary(self) -> str:
        verb = "seraient créés" if not self.written else "créés"
        return (
            f"{self.total} lignes lues, {len(self.valid)} valides, "
            f"{len(self.rejected_lines)} rejetées ; {self.to_create} dossiers {verb}, "
            f"{self.already_imported} déjà importés."
        )


@lru_cache(maxsize=16384)
def local_noon(day: date, timezone: str) -> datetime:
    """The transition time of a legacy date: noon in the tenant's timezone, in UTC (well
    inside the day, whatever the offset)."""
    return datetime.combine(day, time(12), ZoneInfo(timezone)).astimezone(UTC)


def parse_file(data: bytes, filename: str, today: date,
               destinations: dict[str, str] | None = None) -> tuple[ImportResult, Table]:
    """Read and validate every row (no database)."""
    table = read_table(data, filename)
    index, ignored = col.match_headers(table.headers)
    missing = [name for name in col.REQUIRED if name not in index]
    if missing:
        raise UserError(
            "Colonnes obligatoires absentes : " + ", ".join(missing)
            + f" (en-têtes lus : {', '.join(h for h in table.headers if h) or 'aucun'}).",
            status=422, field="file",
        )
    result = ImportResult(filename=filename, headers=table.headers, columns=index,
                          ignored_headers=ignored, total=len(table.rows))
    seen: dict[str, int] = {}
    for line, cells in table.rows:
        result.cells[line] = cells
        row, errors = validate_row(line, cells, index, today, destinations)
        if row is not None:
            first = seen.get(row.import_key)
            if first is not None:
                column = "reference" if row.reference else ""
                what = "référence" if row.reference else "ligne identique à celle"
                errors = [RowError(line, column, f"{what} déjà vue ligne {first}")]
                row = None
            else:
                seen[row.import_key] = line
        if row is not None:
            result.valid.append(row)
        else:
            result.errors.extend(errors)
            result.rejected[line] = list(cells)
        if len(result.preview) < PREVIEW_ROWS:
            result.preview.append({
                "line": line,
                "values": {name: _show(cells[i] if i < len(cells) else None)
                           for name, i in index.items()},
                "errors": errors,
            })
    return result, table


def _show(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _matching(session, columns: tuple, key, values: list, *where):
    """Rows of ``columns`` whose ``key`` column is one of ``values`` (and ``where``).

    PostgreSQL: one statement with one array parameter, run once, so it is planned with
    its values (a statement repeated per chunk gets a generic plan after a few runs, and
    on tables without statistics yet, such as a city's first import, that plan can scan
    the whole tenant per chunk). SQLite: chunks of 1,000 (its parameter limit)."""
    if not values:
        return []
    if session.get_bind().dialect.name == "postgresql":
        wanted = bindparam("wanted", values, type_=ARRAY(key.type))
        return session.execute(select(*columns).where(key == any_(wanted), *where)).all()
    rows = []
    for chunk in _chunks(values, 1000):
        rows.extend(session.execute(select(*columns).where(key.in_(chunk), *where)).all())
    return rows


def check_against_database(session, result: ImportResult) -> None:
    """Mark rows imported before (same key) and refuse references taken by other cases."""
    valid = result.valid
    known = {key for (key,) in _matching(session, (Case.import_key,), Case.import_key,
                                         [r.import_key for r in valid])}
    fresh = [r for r in valid if r.import_key not in known]
    taken = dict(_matching(session, (Case.reference, Case.import_key), Case.reference,
                           [r.case_reference for r in fresh]))
    keep = []
    for row in valid:
        if row.import_key in known:
            row.already = True
            keep.append(row)
        elif row.case_reference in taken:
            result.errors.append(RowError(
                row.line, "reference",
                f"référence « {row.case_reference} » déjà utilisée par un autre dossier"))
            result.rejected[row.line] = result.cells.get(row.line, [])
        else:
            keep.append(row)
    result.valid = keep
    result.already_imported = sum(1 for r in keep if r.already)
    result.errors.sort(key=lambda e: (e.line, e.column))


def run_import(session, tenant, data: bytes, filename: str = "", *, dry_run: bool = False,
               skip_invalid: bool = False, actor=None,
               progress: Callable[[int, int], None] | None = None,
               today: date | None = None) -> ImportResult:
    """Validate the whole file, then write its new rows (see the module docstring)."""
    tenant_id = tenancy.require_tenant_id()
    today = today or local_today(tenant)
    try:
        known_destinations = destinations()
    except RuntimeError:  # no application context (pure use): core destinations only
        known_destinations = None
    result, _table = parse_file(data, filename, today, known_destinations)
    result.dry_run, result.skip_invalid = dry_run, skip_invalid
    check_against_database(session, result)
    if dry_run or (result.errors and not skip_invalid):
        return result
    new_rows = [r for r in result.valid if not r.already]
    write_rows(session, tenant_id, tenant.timezone or "Europe/Paris", new_rows, result,
               label=f"import:{filename}"[:300], progress=progress)
    result.written = True
    audit.record(session, "import.cases", None, actor=actor, file=filename,
                 created=result.created, already_imported=result.already_imported,
                 rejected=len(result.rejected_lines))
    return result


def _person_key(last_name: str, first_name: str, birth_date: date | None):
    return (col.normalise(last_name), col.normalise(first_name), birth_date)


def write_rows(session, tenant_id: int, timezone: str, rows: list[ImportRow],
               result: ImportResult, label: str = "import",
               progress: Callable[[int, int], None] | None = None) -> None:
    """Bulk insert persons (one per name and birth date, reusing the tenant's), cases and
    their transitions, ``BATCH`` rows at a time."""
    people: dict[tuple, uuid.UUID] = {}
    now = clock.now()
    # The tenant's persons born on the file's birth dates, once for the whole file; the
    # persons created below are added as they come.
    dates = sorted({r.birth_date for r in rows if r.birth_date is not None})
    for pid, last, first, born in _matching(
            session, (Person.id, Person.last_name, Person.first_name, Person.birth_date),
            Person.birth_date, dates, Person.anonymised_at.is_(None)):
        people.setdefault(_person_key(last, first, born), pid)
    for batch in _chunks(rows, BATCH):
        new_people, cases, moves = [], [], []
        for row in batch:
            key = _person_key(row.last_name, row.first_name, row.birth_date)
            person_id = people.get(key) if row.birth_date is not None else None
            if person_id is None:
                person_id = uuid.uuid4()
                if row.birth_date is not None:
                    people[key] = person_id
                new_people.append({
                    "tenant_id": tenant_id, "id": person_id, "first_name": row.first_name,
                    "last_name": row.last_name, "birth_date": row.birth_date,
                    "employment": row.employment, "adults": 1, "children_ages": [],
                    "created_at": now, "last_contact_at": local_noon(row.intake_date, timezone),
                })
            case_id = uuid.uuid4()
            history = row.history()
            last_at = local_noon(history[-1][2], timezone) + timedelta(minutes=len(history) - 1)
            cases.append({
                "tenant_id": tenant_id, "id": case_id, "reference": row.case_reference,
                "person_id": person_id, "purpose": row.purpose,
                "amount_requested": row.amount_requested, "project": "", "source": "import",
                "state": row.state, "intake_date": row.intake_date,
                "state_changed_at": last_at, "created_at": now,
                "reoriented_to": row.orientation, "version": 1, "import_key": row.import_key,
            })
            for step, (source, target, day, data) in enumerate(history):
                # noon of the day, a minute per step: moves of one day keep their order
                at = local_noon(day, timezone) + timedelta(minutes=step)
                moves.append({
                    "tenant_id": tenant_id, "id": uuid.uuid4(), "case_id": case_id,
                    "from_state": source, "to_state": target, "at": at,
                    "actor_label": label, "reason_text": "", "data": data,
                })
        # Bulk inserts in the session's transaction (core.rawsql checks every row's
        # tenant_id, and PostgreSQL's row-level security checks it again).
        connection = session.connection()
        for model, records in ((Person, new_people), (Case, cases), (CaseTransition, moves)):
            rawsql.bulk_insert(connection, model.__table__, records, tenant_id)
        case_search.index_new_cases(connection, tenant_id, cases, new_people)
        result.created += len(cases)
        result.persons_created += len(new_people)
        if progress is not None:
            progress(len(batch), len(rows))


def rejects_csv(result: ImportResult) -> bytes:
    """The rejected rows with their errors, for correction and re-import (UTF-8 with BOM,
    semicolons): ``ligne;colonne;erreur`` then the row's original cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["ligne", "colonne", "erreur", *result.headers])
    by_line: dict[int, list[RowError]] = {}
    for error in result.errors:
        by_line.setdefault(error.line, []).append(error)
    for line in sorted(by_line):
        errors = by_line[line]
        cells = [_show(c) for c in result.rejected.get(line, [])]
        writer.writerow([
            line, ", ".join(sorted({e.column for e in errors if e.column})),
            " ; ".join(str(e) for e in errors), *cells,
        ])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
