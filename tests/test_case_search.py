"""The case list's name search by tokens (``core.case_search``): the same cases as the
former ``lower(…) LIKE '%word%'`` on the last name, first name and reference, accents
folded, and the tokens kept with every write."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, select, text

from core import case_search, cases, rawsql, tenancy
from core.cases import CaseFilters, PersonData
from core.demo.rows import Rows
from core.models import Case, CaseSearchToken, Person
from core.portability.export import export_tenant
from core.portability.load import import_tenant
from core.privacy import purge

#: (last name, first name) of the people of the tricky set, one case each.
PEOPLE = [
    ("Martin", "Jean"),
    ("Lamartine", "Alphonse"),
    ("Dupont-Martin", "Jean-Pierre"),
    ("N'Diaye", "Aïssatou"),
    ("O'Brien", "Seán"),
    ("De La Fontaine", "Jean"),
    ("Müller", "Zoë"),
    ("Bœuf", "Lœtitia"),
    ("Le", "Xu"),
    ("Lebrun", "Élodie"),
    ("Nguyen", "Ly"),
    ("Trần", "Thị Hoà"),
]


def _open(session, last, first, day=date(2026, 3, 2)):
    person = cases.create_person(session, PersonData(first_name=first, last_name=last))
    session.flush()
    return cases.open_case(session, person, "mobility", "1500", intake_date=day)


@pytest.fixture
def people(app, session, tenant, in_tenant):
    with in_tenant(tenant):
        opened = {last: _open(session, last, first) for last, first in PEOPLE}
        session.commit()
        return {last: (case.id, case.reference) for last, case in opened.items()}


def found(session, q: str) -> set:
    rows, _total = cases.list_cases(session, "secretary", CaseFilters(q=q), per_page=100,
                                    count=False)
    return {case.id for case in rows}


def old_search(session, q: str) -> set:
    """What ``lower(…) LIKE '%word%'`` gave, by Python's lower() (the former search on
    PostgreSQL; on SQLite ``lower`` folded ASCII only)."""
    words = [w.lower() for w in q.split()[:4]]
    rows = session.execute(select(Case.id, Case.reference, Person.first_name, Person.last_name)
                           .join(Person, Person.id == Case.person_id)).all()
    return {case_id for case_id, *texts in rows
            if all(any(w in t.lower() for t in texts) for w in words)}


def stored_tokens(session) -> dict:
    tokens: dict = {}
    for case_id, token in session.execute(select(CaseSearchToken.case_id,
                                                 CaseSearchToken.token)):
        tokens.setdefault(case_id, set()).add(token)
    return tokens


def computed_tokens(session) -> dict:
    """What the tokens must be: :func:`case_search.case_tokens` of every stored case."""
    rows = session.execute(select(Case.id, Case.reference, Person.first_name, Person.last_name)
                           .join(Person, Person.id == Case.person_id)).all()
    return {case_id: case_search.case_tokens(*texts) for case_id, *texts in rows}


# -- the rule -------------------------------------------------------------------------------


def test_normalise_folds_case_accents_ligatures_and_typographic_apostrophes():
    n = case_search.normalise
    assert n("Élodie") == n("ELODIE") == "elodie"
    assert n("Lœtitia BŒUF") == "loetitia boeuf"
    assert n("N’Diaye") == n("N'Diaye") == "n'diaye"
    assert n("Jean\u2011Pierre") == "jean-pierre"
    assert n("Müller Ångström Ørsted Łukasz Straße") == "muller angstrom orsted lukasz strasse"


def test_the_tokens_of_a_text_are_its_suffixes_not_starting_with_a_space():
    assert case_search.suffixes("De La") == {"de la", "e la", "la", "a"}
    assert case_search.case_tokens("2026-00001", "Ly", "Le") == {
        "2026-00001", "026-00001", "26-00001", "6-00001", "-00001", "00001", "0001", "001",
        "01", "1", "ly", "y", "le", "e"}


@pytest.mark.parametrize("q", [
    "martin",          # a whole name, and inside others (Lamartine, Dupont-Martin)
    "artin",           # the middle of a name
    "MARTIN",          # case
    "le",              # two letters: a whole name, the start and the end of others
    "xu", "ly", "n",   # two letters and one
    "jean martin",     # two words, each in a different field
    "martin jean-pierre",
    "jean-pierre", "pierre", "-mar",   # hyphens
    "n'diaye", "'di", "o'brien",       # apostrophes
    "de la fontaine", "la fon",        # a name of several words
    "2026-", "00003", "2026-00007",    # the reference
    "jean lebrun",     # two words matching no single case
    "nobody",          # no one
    "a b c d e",       # more than four words: the first four only
])
@pytest.mark.parametrize("common", [case_search.COMMON, 0],
                         ids=["rarest-word-gathered", "every-word-probed"])
def test_a_search_finds_the_cases_the_like_search_found(people, session, tenant, in_tenant,
                                                      monkeypatch, q, common):
    """Both plans (``core.case_search.filter_by_words``): the rarest word's cases gathered
    from the index, or every case probed newest first when all the words are common."""
    monkeypatch.setattr(case_search, "COMMON", common)
    with in_tenant(tenant):
        assert found(session, q) == old_search(session, q)


def test_a_search_finds_the_expected_cases(people, session, tenant, in_tenant):
    with in_tenant(tenant):
        def names(q):
            ids = found(session, q)
            return {last for last, (case_id, _ref) in people.items() if case_id in ids}

        assert names("martin") == {"Martin", "Lamartine", "Dupont-Martin"}
        assert names("jean martin") == {"Martin", "Dupont-Martin"}
        assert names("xu") == {"Le"}
        assert names("fontaine jean") == {"De La Fontaine"}
        reference = people["Müller"][1]
        assert names(reference) == {"Müller"}
        assert names("nobody") == set()


def test_accents_are_folded_both_ways(people, session, tenant, in_tenant):
    """The former search was accent sensitive (``é`` did not find ``e``); now a word finds
    a name with or without its accents, typed with or without them."""
    with in_tenant(tenant):
        lebrun, muller, boeuf, ndiaye = (people[k][0] for k in
                                         ("Lebrun", "Müller", "Bœuf", "N'Diaye"))
        assert found(session, "elodie") == found(session, "ÉLODIE") == {lebrun}
        assert found(session, "muller") == found(session, "müller") == {muller}
        assert found(session, "zoe") == {muller}
        assert found(session, "loetitia") == found(session, "lœtitia") == {boeuf}
        assert found(session, "aissatou") == {ndiaye}
        assert found(session, "n’diaye") == {ndiaye}   # typographic apostrophe


def test_like_wildcards_typed_are_plain_characters(people, session, tenant, in_tenant):
    with in_tenant(tenant):
        assert found(session, "%") == set() and found(session, "_") == set()


def test_the_web_list_and_the_api_list_search_by_tokens(people, session, tenant, in_tenant,
                                                        users, login, client, api_token):
    case_id = people["N'Diaye"][0]
    token = api_token(users["secretary"])
    listed = client.get("/api/v1/cases?q=diaye&count=true",
                        headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [item["id"] for item in listed["items"]] == [str(case_id)]
    assert listed["total"] == 1
    login(client, users["secretary"])
    # the page's search form is a POST (a name never in a URL)
    page = client.post("/t/alpha/cases/", data={"q": "aïssatou"}).get_data(as_text=True)
    assert "N&#39;Diaye" in page or "N'Diaye" in page
    assert "Lamartine" not in page


@pytest.mark.parametrize("common", [case_search.COMMON, 0],
                         ids=["rarest-word-gathered", "every-word-probed"])
def test_the_api_list_without_a_count_finds_what_the_search_finds(
        people, session, tenant, other_tenant, in_tenant, users, client, api_token,
        monkeypatch, common):
    """The CCAS team's API list without a count runs its search as a statement built once
    per shape of plan, the words as parameters (``core.cases.list_case_rows``): the same
    cases as ``filter_by_words``, newest first, for both plans, never another
    tenant's."""
    monkeypatch.setattr(case_search, "COMMON", common)
    with in_tenant(other_tenant):
        theirs = _open(session, "Martin", "Marcel").id
        session.commit()
    headers = {"Authorization": f"Bearer {api_token(users['secretary'])}"}
    for q in ("martin", "artin", "jean martin", "le", "n", "-mar", "n'diaye",
              "de la fontaine", "2026-", "jean lebrun", "nobody", "a b c d e", "  "):
        listed = client.get("/api/v1/cases", query_string={"q": q, "per_page": 100},
                            headers=headers).get_json()
        ids = [item["id"] for item in listed["items"]]
        with in_tenant(tenant):
            expected = found(session, q)
            assert set(ids) == {str(i) for i in expected}, q
            if ids:  # newest intake first, then the reference, as every page of the list
                rows = session.execute(select(Case.id, Case.intake_date, Case.reference)
                                       .where(Case.id.in_(expected))).all()
                assert ids == [str(r.id) for r in sorted(
                    rows, key=lambda r: (r.intake_date, r.reference), reverse=True)], q
        assert str(theirs) not in ids


# -- kept with every write ----------------------------------------------------------------------


def test_a_rectified_name_is_found_by_the_new_name_and_not_the_old(people, session, tenant,
                                                                  in_tenant):
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, people["Lamartine"][0]))
        case.person.last_name = "Verlaine"
        session.commit()
        assert found(session, "verlaine") == {case.id}
        assert found(session, "lamartine") == set()
        assert case.id not in found(session, "martin")
        assert stored_tokens(session) == computed_tokens(session)


def test_the_rectification_page_rewrites_the_tokens(people, session, tenant, in_tenant, users,
                                                    login, client):
    case_id = people["Nguyen"][0]
    with in_tenant(tenant):
        person_id = session.get(Case, (tenant.id, case_id)).person_id
    login(client, users["manager"])
    answer = client.post(f"/t/alpha/admin/privacy/persons/{person_id}/rectify",
                         data={"last_name": "Nguyễn-Trần", "first_name": "Ly"})
    assert answer.status_code == 302
    with in_tenant(tenant):
        assert found(session, "nguyen-tran") == {case_id}
        assert found(session, "nguyen") == {case_id}
        assert case_id in found(session, "tran")


def test_a_purged_person_is_not_found_by_their_name(people, session, tenant, in_tenant):
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, people["Müller"][0]))
        purge.anonymise_person(session, case.person, reason="erasure")
        session.commit()
        assert found(session, "muller") == set() and found(session, "zoe") == set()
        assert stored_tokens(session) == computed_tokens(session)


def test_a_new_reference_and_another_person_rewrite_the_tokens(people, session, tenant,
                                                              in_tenant):
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, people["Nguyen"][0]))
        other = session.get(Case, (tenant.id, people["O'Brien"][0])).person
        case.reference = "2026-99999"
        case.person_id = other.id
        session.commit()
        assert found(session, "99999") == {case.id}
        assert case.id in found(session, "brien") and found(session, "nguyen") == set()
        assert stored_tokens(session) == computed_tokens(session)


def test_a_case_opened_for_a_person_of_an_earlier_transaction_gets_their_names(
        people, session, tenant, in_tenant):
    with in_tenant(tenant):
        person = session.get(Case, (tenant.id, people["O'Brien"][0])).person
        session.commit()  # the person's attributes expire
        second = cases.open_case(session, person, "health", "800", intake_date=date(2026, 4, 1))
        session.commit()
        assert found(session, "o'brien") == {people["O'Brien"][0], second.id}
        other = session.get(Case, (tenant.id, people["Nguyen"][0]))
        other.person = person
        session.commit()
        assert other.id in found(session, "brien")
        assert stored_tokens(session) == computed_tokens(session)


def test_a_deleted_case_leaves_no_tokens(people, session, tenant, in_tenant):
    with in_tenant(tenant):
        case = session.get(Case, (tenant.id, people["Le"][0]))
        session.delete(case)
        session.commit()
        assert case.id not in stored_tokens(session)


def test_cases_written_in_bulk_get_their_tokens(app, session, tenant, in_tenant):
    """The demo's and the benchmarks' generator writes rows without the ORM."""
    import random

    with in_tenant(tenant):
        rows = Rows(session, random.Random(1))
        known = _open(session, "Déjà", "Connue")
        session.flush()
        for i in range(3):
            person_id = rows.add(Person, first_name="Rémi", last_name=f"Généré{i}")
            rows.add(Case, reference=f"2026-5000{i}", person_id=person_id, purpose="health",
                     amount_requested=1000, intake_date=date(2026, 1, 5))
        rows.add(Case, reference="2026-50009", person_id=known.person_id, purpose="health",
                 amount_requested=1000, intake_date=date(2026, 1, 6))
        rows.write()
        rows.close()
        session.commit()
        assert len(found(session, "genere")) == 3 and len(found(session, "deja")) == 2
        assert stored_tokens(session) == computed_tokens(session)


def test_a_name_holding_the_separator_of_the_bulk_tokens_keeps_its_tokens(
        app, session, tenant, in_tenant):
    """On PostgreSQL a case's tokens travel joined by ``rawsql.SPREAD_SEPARATOR``
    (``bulk_insert_spread``); a name holding it is written a token a row instead, the
    same tokens."""
    with in_tenant(tenant):
        odd = _open(session, f"Sépa{rawsql.SPREAD_SEPARATOR}rateur", "Ève")
        plain = _open(session, "Ordinaire", "Paul")
        session.commit()
        tokens = stored_tokens(session)
        assert tokens == computed_tokens(session)
        assert f"a{rawsql.SPREAD_SEPARATOR}rateur" in tokens[odd.id]
        assert {"ordinaire", "paul"} <= tokens[plain.id]


def test_an_archive_does_not_carry_the_tokens_and_its_import_rebuilds_them(
        people, session, tenant, in_tenant, tmp_path):
    archive = tmp_path / "alpha.ccas"
    with in_tenant(tenant):
        manifest = export_tenant(session, tenant, archive)
        session.commit()
    assert "case_search_tokens" not in manifest.tables
    copy = import_tenant(session, archive, slug="copie", new_ids=True)
    session.commit()
    with in_tenant(copy):
        assert len(found(session, "martin")) == 3
        assert stored_tokens(session) == computed_tokens(session)


def test_the_backfill_gives_the_tokens_the_application_writes(people, session, tenant,
                                                             in_tenant, ccas_database):
    """Migration 0022 writes the tokens of the existing cases in SQL on PostgreSQL
    (``translate``/``lower``), through Python on SQLite: the same tokens."""
    with in_tenant(tenant):
        expected = stored_tokens(session)
        assert expected == computed_tokens(session)
    session.commit()
    with ccas_database.owner_connection() as conn:
        if conn.dialect.name == "postgresql":  # every tenant's rows, as the migration
            rawsql.set_tenant_guc(conn, "", "on", None)
        assert conn.execute(delete(CaseSearchToken)).rowcount == sum(map(len, expected.values()))
        assert case_search.backfill(conn) == sum(map(len, expected.values()))
        conn.commit()
    with in_tenant(tenant):
        assert stored_tokens(session) == expected


# -- tenants --------------------------------------------------------------------------------------


def test_the_tokens_of_another_tenant_never_match(people, session, tenant, other_tenant,
                                                  in_tenant):
    with in_tenant(other_tenant):
        theirs = _open(session, "Martin", "Marcel").id
        unique = _open(session, "Zyxwvut", "Autre").id
        session.commit()
        assert found(session, "martin") == {theirs}
    with in_tenant(tenant):
        assert theirs not in found(session, "martin") and len(found(session, "martin")) == 3
        assert found(session, "zyxwvut") == set()
        assert unique not in stored_tokens(session)


@pytest.mark.postgres_only
def test_row_level_security_hides_another_tenants_tokens_from_raw_sql(
        people, session, tenant, other_tenant, in_tenant):
    """The second wall: the application role reading the table with no tenant filter sees
    only the current tenant's tokens."""
    with in_tenant(other_tenant):
        _open(session, "Zyxwvut", "Autre")
        session.commit()
    with in_tenant(tenant):
        tenancy.carry(session)
        seen = session.connection().execute(text(
            "SELECT DISTINCT tenant_id FROM case_search_tokens")).scalars().all()
        hidden = session.connection().execute(text(
            "SELECT count(*) FROM case_search_tokens WHERE token = 'zyxwvut'")).scalar()
    assert seen == [tenant.id] and hidden == 0
    session.rollback()
