"""The case list's name search: a word matches the cases whose person's last name or
first name, or whose reference, contains it; every word typed must match.

Texts are compared normalised (:func:`normalise`): lower case, accents and ligatures
folded (``Élodie`` is found by ``elodie`` and ``ELODIE``, ``Lœtitia`` by ``loetitia``),
typographic apostrophes and dashes read as ``'`` and ``-``; the punctuation of a name
stays (``n'diaye``, ``jean-pierre``). Before, ``lower(…) LIKE '%word%'`` was accent
sensitive, and on SQLite case sensitive outside ASCII.

Why tokens: under PostgreSQL's row-level security an operator that is not ``LEAKPROOF``
(``LIKE``, ``lower()``) is evaluated after the policy, on every row it lets through, and no
index serves it: a name nobody has read every case of the tenant (2.6 s at a million
cases, ``docs/performance.md``). Each case has one row in ``case_search_tokens`` per
distinct suffix of its normalised last name, first name and reference (``martin`` gives
``martin``, ``artin``, ``rtin``, ``tin``, ``in``, ``n``). A substring of a text is a prefix
of one of its suffixes, so a word matches exactly the cases having a token in ``[word,
word + U+10FFFF)``: a range of the btree ``(tenant_id, token, case_id)`` under byte-order
collation, with comparisons PostgreSQL knows to be leakproof. No recheck is needed, and a
word of one or two letters is searched the same way (trigrams would need both a recheck
with ``LIKE`` and another path for short words). A common word (``martin``) is cheaper
read the other way, newest cases first, probing the primary key ``(tenant_id, case_id,
token)`` for each until a page is full: the planner picks from the tokens' statistics.

Kept up to date in one place: :func:`install` hooks the ORM flush (a case created or
given another reference or person, a person renamed, rectified or anonymised, a case
deleted), and the bulk loaders that write rows without the ORM (``core.demo.rows``,
``core.importer``, ``core.portability``) call :func:`index_new_cases` or
:func:`index_tenant`. Migration 0022 wrote the tokens of the existing cases; its SQL is
:func:`backfill_sql` (the same normalisation as :func:`normalise`, by ``translate``).
"""

from __future__ import annotations

import functools
import unicodedata
import uuid
from collections.abc import Iterable

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    delete,
    event,
    false,
    func,
    inspect,
    literal,
    select,
    text,
)
from sqlalchemy.orm import Session

from . import rawsql, tenancy
from .models import Case, CaseSearchToken, Person

#: The upper end of the range of tokens starting with a word: above any character.
TOP = "\U0010ffff"
#: The words of a search taken into account (the rest are ignored, as before).
MAX_WORDS = 4
#: A word more tokens than this start with is common: its cases are not gathered but
#: probed one by one, newest first (:func:`filter_by_words`). The break-even of the two
#: plans is about sqrt(page × cases) matches (1,450 at 100,000 cases, 4,600 at a
#: million); measured in docs/performance.md.
COMMON = 2000
#: Rows read per statement when tokens are written for cases already stored.
BATCH = 5000

# Accented letters of the Latin alphabets (and their capitals) → the bare lower-case
# letter; typographic apostrophes and dashes → ASCII; no-break space → space. One
# character each, so that SQL's ``translate`` does the same (``backfill_sql``).
_ONE_TO_ONE: dict[str, str] = {}
for _code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:  # Latin-1 to Extended-B,
    _char = chr(_code)                                      # Latin Extended Additional
    _bare = "".join(c for c in unicodedata.normalize("NFKD", _char)
                    if not unicodedata.combining(c))
    if len(_bare) == 1 and _bare.isascii() and _bare.isalpha() and _bare != _char:
        _ONE_TO_ONE[_char] = _bare.lower()
_ONE_TO_ONE.update({"ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ł": "l", "Ł": "l",
                    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'",
                    "\u2010": "-", "\u2011": "-", "\u2013": "-", "\u2014": "-",
                    "\u00a0": " "})
#: Letters written as two (``replace`` in SQL).
_LIGATURES = {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"}
_FOLD = str.maketrans({**_ONE_TO_ONE, **_LIGATURES})


def normalise(value: str | None) -> str:
    """``value`` as the search compares it: accents and ligatures folded, lower case."""
    return (value or "").translate(_FOLD).lower()


def suffixes(value: str | None) -> set[str]:
    """The suffixes of the normalised ``value`` not starting with a space (a word
    searched has none)."""
    folded = normalise(value)
    return {folded[i:] for i in range(len(folded)) if not folded[i].isspace()}


def case_tokens(reference: str | None, first_name: str | None,
                last_name: str | None) -> set[str]:
    """The tokens of a case: the suffixes of its reference and of its person's names."""
    return suffixes(reference) | suffixes(first_name) | suffixes(last_name)


def search_words(q: str | None) -> list[str]:
    """The normalised words of a search (at most :data:`MAX_WORDS`)."""
    words = (normalise(word) for word in (q or "").split()[:MAX_WORDS])
    return [word for word in words if word.strip()]


def _starts_with(word: str):
    """The tokens starting with ``word``: one range of the index, leakproof comparisons."""
    return and_(CaseSearchToken.token >= word, CaseSearchToken.token < word + TOP)


def _current_tenant():
    """The tenant's tokens, said in the statement (the index's first column; the ORM's
    scoping and the row-level security policy say it too, but not as an index bound)."""
    return CaseSearchToken.tenant_id == tenancy.require_tenant_id()


def case_probe(word: str):
    """The criterion on ``Case``: one of its tokens starts with the normalised ``word``,
    checked case by case on the primary key ``(tenant_id, case_id, token)`` (a subquery
    with ``LIMIT`` is never turned into a join; the prefix compared by ``substr`` so that
    no plan reads the word's whole range of the token index for each case)."""
    return (select(literal(1)).where(
        CaseSearchToken.tenant_id == Case.tenant_id, CaseSearchToken.case_id == Case.id,
        func.substr(CaseSearchToken.token, 1, len(word)) == word,
    ).limit(1).correlate(Case).scalar_subquery().is_not(None))


def token_counts(session, words: list[str]) -> dict[str, int]:
    """How many tokens of the tenant start with each word, counted up to
    ``COMMON + 1`` (at most that many index entries read per word): one statement."""
    params = {"tenant": tenancy.require_tenant_id()}
    for i, word in enumerate(words):
        params[f"low{i}"], params[f"high{i}"] = word, word + TOP
    counts = session.execute(_token_counts(len(words)), params).one()
    return dict(zip(words, counts, strict=True))


@functools.cache
def _token_counts(words: int):
    """:func:`token_counts`'s statement for that many words, built once (its words, their
    upper bounds and the tenant as parameters)."""
    return select(*[
        select(func.count()).select_from(
            select(CaseSearchToken.case_id).where(
                CaseSearchToken.tenant_id == bindparam("tenant"),
                CaseSearchToken.token >= bindparam(f"low{i}"),
                CaseSearchToken.token < bindparam(f"high{i}"))
            .limit(COMMON + 1).subquery()).scalar_subquery()
        for i in range(words)])


def search_plan(session, q: str | None) -> tuple[str | None, list[str]] | None:
    """How :func:`filter_by_words` searches ``q``: ``(driver, probes)``, the word whose
    cases are gathered by the token index (``None`` when every word is common) and the
    words probed case by case; ``None`` when a word matches nothing (no case matches);
    ``(None, [])`` for a search of no word. One statement (:func:`token_counts`) when
    there are words."""
    words = search_words(q)
    if not words:
        return None, []
    counts = token_counts(session, words)
    if 0 in counts.values():
        return None
    rarest = min(words, key=counts.__getitem__)
    driver = rarest if counts[rarest] <= COMMON else None
    return driver, [word for word in words if word != driver]


def filter_by_words(session, stmt, q: str | None):
    """``stmt`` (a select of ``Case``) restricted to the cases every word of ``q``
    matches, in the plan that reads least (:func:`search_plan`).

    The planner cannot tell a rare word from a common one by the range alone (it
    estimates one row either way), so the words' tokens are counted first (capped, one
    statement): a word nobody has gives no case at once; the rarest word, when at most
    :data:`COMMON` tokens start with it, drives (its cases by the index, then sorted);
    when every word is common, the cases are read newest first and each probed, which
    stops as soon as the page is full. The other words are probed on the candidates.
    Either way a search reads about ``COMMON`` index entries and probes, or ``page ×
    cases ÷ matches`` probes, whatever the tenant's size.
    """
    plan = search_plan(session, q)
    if plan is None:
        return stmt.where(false())
    driver, probes = plan
    if driver is not None:
        stmt = stmt.where(Case.id.in_(
            select(CaseSearchToken.case_id).where(_current_tenant(), _starts_with(driver))))
    for word in probes:
        stmt = stmt.where(case_probe(word))
    return stmt


def bound_criteria(driven: bool, probes: int) -> list:
    """:func:`filter_by_words`'s terms on ``Case`` for a plan of that shape (a driving
    word or not, ``probes`` words probed), the words as parameters
    (:func:`bound_values`): for a statement built once per shape, whose SQL is the same
    as :func:`filter_by_words` writes (building and keying the statement again at each
    search cost more than its execution's Python)."""
    token = CaseSearchToken.token
    terms = []
    if driven:
        terms.append(Case.id.in_(select(CaseSearchToken.case_id).where(
            CaseSearchToken.tenant_id == bindparam("search_tenant"),
            token >= bindparam("search_low"), token < bindparam("search_high"))))
    for i in range(probes):
        terms.append(select(literal(1)).where(
            CaseSearchToken.tenant_id == Case.tenant_id, CaseSearchToken.case_id == Case.id,
            func.substr(token, 1, bindparam(f"search_length{i}", type_=Integer))
            == bindparam(f"search_word{i}", type_=String),
        ).limit(1).correlate(Case).scalar_subquery().is_not(None))
    return terms


def bound_values(driver: str | None, probes: list[str]) -> dict:
    """The parameters of :func:`bound_criteria` for a :func:`search_plan`."""
    values: dict = {}
    if driver is not None:
        values.update(search_tenant=tenancy.require_tenant_id(), search_low=driver,
                      search_high=driver + TOP)
    for i, word in enumerate(probes):
        values[f"search_length{i}"], values[f"search_word{i}"] = len(word), word
    return values


# -- writing the tokens ----------------------------------------------------------------


def _write(connection, tenant_id: int, cases: list[tuple]) -> int:
    """Insert the tokens of ``cases`` (which have none), ``(case_id, reference,
    first_name, last_name)``; the number of rows written (one a token: on PostgreSQL a
    case's tokens travel as one row, ``core.rawsql.bulk_insert_spread``)."""
    written = 0
    for start in range(0, len(cases), BATCH):
        written += rawsql.bulk_insert_spread(
            connection, CaseSearchToken.__table__, "case_id", "token",
            [(case_id, sorted(case_tokens(reference, first_name, last_name)))
             for case_id, reference, first_name, last_name in cases[start:start + BATCH]],
            tenant_id)
    return written


def _stored_cases(connection, tenant_id: int, where, page: bool = False) -> list[tuple]:
    """``(case_id, reference, first_name, last_name)`` of the tenant's cases ``where``
    selects (Core: the caller's connection carries the tenant); with ``page``, the first
    :data:`BATCH` of them by id."""
    stmt = (select(Case.id, Case.reference, Person.first_name, Person.last_name)
            .join(Person, and_(Person.tenant_id == Case.tenant_id,
                               Person.id == Case.person_id))
            .where(Case.tenant_id == tenant_id, where))
    if page:
        stmt = stmt.order_by(Case.id).limit(BATCH)
    return [tuple(row) for row in connection.execute(stmt)]


def _chunks(ids: list, size: int = BATCH):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def reindex_cases(connection, tenant_id: int, case_ids: Iterable[uuid.UUID] = (),
                  person_ids: Iterable[uuid.UUID] = ()) -> int:
    """Rewrite the tokens of the tenant's cases ``case_ids`` and of every case of the
    persons ``person_ids``, from the stored rows; the number of token rows written."""
    case_ids, person_ids = sorted(set(case_ids)), sorted(set(person_ids))
    cases = {}
    for chunk in _chunks(case_ids):
        cases.update((c[0], c) for c in _stored_cases(connection, tenant_id,
                                                         Case.id.in_(chunk)))
    for chunk in _chunks(person_ids):
        cases.update((c[0], c) for c in _stored_cases(connection, tenant_id,
                                                         Case.person_id.in_(chunk)))
    stale = sorted(set(case_ids) | set(cases))
    for chunk in _chunks(stale):
        connection.execute(delete(CaseSearchToken).where(
            CaseSearchToken.tenant_id == tenant_id, CaseSearchToken.case_id.in_(chunk)))
    return _write(connection, tenant_id, list(cases.values()))


def index_new_cases(connection, tenant_id: int, cases: list[dict],
                    persons: Iterable[dict] = ()) -> int:
    """Write the tokens of ``cases``, just inserted without the ORM (records with ``id``,
    ``reference`` and ``person_id``); ``persons``: records of their persons at hand (the
    others are read). The number of token rows written."""
    names = {p["id"]: (p.get("first_name"), p.get("last_name")) for p in persons}
    missing = sorted({c["person_id"] for c in cases} - set(names))
    for chunk in _chunks(missing):
        names.update((row[0], (row[1], row[2])) for row in connection.execute(
            select(Person.id, Person.first_name, Person.last_name)
            .where(Person.tenant_id == tenant_id, Person.id.in_(chunk))))
    return _write(connection, tenant_id, [
        (c["id"], c.get("reference"), *names.get(c["person_id"], (None, None)))
        for c in cases])


def index_tenant(connection, tenant_id: int) -> int:
    """Rewrite the tokens of every case of the tenant (after a tenant archive is loaded:
    archives do not carry them); the number of token rows written."""
    connection.execute(delete(CaseSearchToken).where(CaseSearchToken.tenant_id == tenant_id))
    last = None
    written = 0
    while True:
        where = Case.id > last if last is not None else Case.id.is_not(None)
        cases = _stored_cases(connection, tenant_id, where, page=True)
        if not cases:
            return written
        written += _write(connection, tenant_id, cases)
        last = cases[-1][0]


# -- the ORM's writes -------------------------------------------------------------------

_NAMES = ("first_name", "last_name")
_CASE_KEYS = ("reference", "person_id", "person")


def _changed(obj, names) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def _after_flush(session: Session, _flush_context) -> None:
    """Rewrite the tokens of the cases this flush created, re-referenced, moved to
    another person or deleted, and of the cases of the persons it renamed."""
    new: dict[int, list[tuple]] = {}
    stale: dict[int, tuple[set, set]] = {}
    for obj in session.new:
        if isinstance(obj, Case):
            person = session.identity_map.get(
                session.identity_key(Person, (obj.tenant_id, obj.person_id)))
            if person is None or set(_NAMES) & inspect(person).expired_attributes:
                # not at hand (or expired): read with the others, no load inside a flush
                stale.setdefault(obj.tenant_id, (set(), set()))[0].add(obj.id)
            else:
                new.setdefault(obj.tenant_id, []).append(
                    (obj.id, obj.reference, person.first_name, person.last_name))
    for obj in session.dirty:
        if isinstance(obj, Case) and _changed(obj, _CASE_KEYS):
            stale.setdefault(obj.tenant_id, (set(), set()))[0].add(obj.id)
        elif isinstance(obj, Person) and _changed(obj, _NAMES):
            stale.setdefault(obj.tenant_id, (set(), set()))[1].add(obj.id)
    for obj in session.deleted:
        if isinstance(obj, Case):
            stale.setdefault(obj.tenant_id, (set(), set()))[0].add(obj.id)
    if not new and not stale:
        return
    connection = session.connection()
    for tenant_id, cases in new.items():
        _write(connection, tenant_id, cases)
    for tenant_id, (case_ids, person_ids) in stale.items():
        reindex_cases(connection, tenant_id, case_ids, person_ids)


def install(session_class: type[Session]) -> None:
    """Keep the tokens with every ORM flush of ``session_class`` (idempotent)."""
    if getattr(session_class, "_ccas_case_search_installed", False):
        return
    event.listen(session_class, "after_flush", _after_flush)
    session_class._ccas_case_search_installed = True


# -- migration 0022: the tokens of the cases already stored, in SQL ---------------------


def normalise_sql(column: str) -> str:
    """SQL (PostgreSQL) giving :func:`normalise` of ``column``: ``translate`` for the
    letters folded one to one, ``replace`` for the ligatures, then ``lower``.
    Characters outside these tables are lowered by the database (``lower`` under the
    database's ``LC_CTYPE``) where :func:`normalise` lowers them by Python's rules: the
    two agree on the Latin alphabets."""
    source = "".join(_ONE_TO_ONE)
    target = "".join(_ONE_TO_ONE.values())
    expr = f"translate({column}, {_literal(source)}, {_literal(target)})"
    for letter, written in _LIGATURES.items():
        expr = f"replace({expr}, {_literal(letter)}, {_literal(written)})"
    return f"lower({expr})"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def backfill_sql() -> str:
    """One statement writing the tokens of every case of every tenant (run by the
    owner, which the row-level security policies let cross tenants in migrations):
    the distinct suffixes of each case's three normalised texts, as
    :func:`case_tokens` gives them."""
    texts = ", ".join(f"({normalise_sql(c)})" for c in
                      ("c.reference", "p.first_name", "p.last_name"))
    # built from this module's constants, no input
    return (
        "INSERT INTO case_search_tokens (tenant_id, case_id, token) "  # noqa: S608
        "SELECT c.tenant_id, c.id, s.token FROM cases AS c "
        "JOIN persons AS p ON p.tenant_id = c.tenant_id AND p.id = c.person_id "
        "CROSS JOIN LATERAL ("
        "  SELECT DISTINCT substr(f.t, g.i) AS token"
        f"  FROM (VALUES {texts}) AS f(t)"
        "  CROSS JOIN LATERAL generate_series(1, length(f.t)) AS g(i)"
        "  WHERE substr(f.t, g.i, 1) !~ '^[[:space:]]$'"
        ") AS s")


def backfill(connection) -> int:
    """Write the tokens of every stored case, as the owner (migration 0022): set-based on
    PostgreSQL (:func:`backfill_sql`, across tenants by ``ccas.cross`` for the
    transaction), through :func:`index_tenant` per tenant elsewhere (SQLite: development
    and test databases)."""
    if connection.dialect.name == "postgresql":
        # every tenant's rows: the policies let the owner through with ccas.cross, for
        # this transaction only
        rawsql.set_tenant_guc(connection, "", "on", None)
        return connection.execute(text(backfill_sql())).rowcount
    written = 0
    tenants = [row[0] for row in connection.execute(text("SELECT id FROM tenants"))]
    for tenant_id in tenants:
        written += index_tenant(connection, tenant_id)
    return written


__all__ = ["backfill", "backfill_sql", "bound_criteria", "bound_values", "case_probe",
           "case_tokens", "filter_by_words", "index_new_cases", "index_tenant", "install",
           "normalise", "reindex_cases", "search_plan", "search_words", "suffixes"]
