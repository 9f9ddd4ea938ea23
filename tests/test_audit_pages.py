"""The manager's audit page (who consulted or changed an object), and the audit trail is
append-only: no route, no ORM session and (PostgreSQL) no SQL of the app role can change
or delete a row."""

from __future__ import annotations

import html
import re
import uuid

import pytest
from flask import got_request_exception
from sqlalchemy import event, select, text, update

from core import audit
from core.models import AuditEvent


@pytest.fixture
def trail(session, in_tenant, tenant, other_tenant, users):
    """A few events in ``tenant`` and one in ``other_tenant``."""
    from core.models import User

    with in_tenant(tenant):
        manager = session.scalar(select(User).where(User.id == users["manager"].id))
        worker = session.scalar(select(User).where(User.id == users["social_worker"].id))
        person_id = str(uuid.uuid4())
        for actor, action in ((worker, "person.read"), (manager, "person.update")):
            ev = audit.record(session, action, None, actor=actor, field="phone")
            ev.object_type, ev.object_id = "Person", person_id
        other = audit.record(session, "person.read", None, actor=worker)
        other.object_type, other.object_id = "Person", str(uuid.uuid4())
        session.commit()
    with in_tenant(other_tenant):
        ev = audit.record(session, "person.read", None)
        ev.object_type, ev.object_id = "Person", person_id
        ev.actor = "user:stranger@beta.test"
        session.commit()
    return {"person_id": person_id, "worker": worker.email, "manager": manager.email}


def test_manager_sees_who_consulted_or_changed_an_object(client, users, login, trail):
    login(client, users["manager"])
    r = client.get(f"/t/alpha/admin/audit/?object_type=Person&object_id={trail['person_id']}")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert page.count("<h1>") == 1 and "<caption>" in page and 'scope="col"' in page
    rows = re.findall(r"<tr>\s*<td>.*?</tr>", page, flags=re.S)
    assert len(rows) == 2
    assert any(trail["worker"] in row and "person.read" in row for row in rows)
    assert any(trail["manager"] in row and "person.update" in row for row in rows)
    assert "stranger@beta.test" not in page  # another tenant's trail is invisible
    assert f"<td>{trail['worker']}</td>" in page and "user:" not in page  # the address


def test_audit_page_filters_by_actor_and_action(client, users, login, trail):
    login(client, users["manager"])
    page = client.get(f"/t/alpha/admin/audit/?actor={trail['worker'][:8]}&action=person.read"
                      ).get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td>.*?</tr>", page, flags=re.S)
    assert len(rows) == 2 and all(trail["worker"] in row for row in rows)


def test_audit_page_counts_up_to_a_cap_then_says_more(client, users, login, trail,
                                                     monkeypatch):
    """The journal grows with every read: its page counts at most ``COUNT_CAP`` + 1 rows,
    says "plus de" beyond, and its pages go on while they are full."""
    from core.web import audit as audit_page

    monkeypatch.setattr(audit_page, "COUNT_CAP", 1)  # two reads in the trail
    monkeypatch.setattr(audit_page, "PAGE_SIZE", 1)
    login(client, users["manager"])
    first = client.get("/t/alpha/admin/audit/?action=person.read").get_data(as_text=True)
    assert "(plus de 1), page 1</caption>" in first and "Page suivante" in first
    third = client.get("/t/alpha/admin/audit/?action=person.read&page=3"
                       ).get_data(as_text=True)
    assert "Page précédente" in third and "Page suivante" not in third
    # past the end of a list whose last page is unknown: said so, with the first page
    assert ("Aucun événement sur cette page : la liste s'arrête avant."
            in html.unescape(third))
    assert "ne correspond à ces filtres" not in third
    assert "La page 3 est vide" in third and "Revenir à la première page" in third
    monkeypatch.setattr(audit_page, "COUNT_CAP", 100)
    exact = client.get("/t/alpha/admin/audit/?action=person.update").get_data(as_text=True)
    assert "(1)</caption>" in exact and "Page suivante" not in exact


def test_audit_pages_share_the_case_list_pagination(client, users, login, trail, monkeypatch):
    """The journal's pages are drawn by the same macro as the case list's: a labelled
    ``nav``, the current page marked ``aria-current``, previous and next links with rel."""
    from core.web import audit as audit_page

    monkeypatch.setattr(audit_page, "PAGE_SIZE", 1)
    login(client, users["manager"])
    second = client.get("/t/alpha/admin/audit/?action=person.read&page=2"
                        ).get_data(as_text=True)
    nav = second.split('<nav aria-label="Pages du journal">')[1].split("</nav>")[0]
    assert '<li aria-current="page">Page 2 / 2</li>' in nav
    assert 'rel="prev">Page précédente</a>' in nav and "Page suivante" not in nav


def test_audit_page_asked_past_its_last_page_shows_the_last(client, users, login, trail,
                                                            monkeypatch):
    """``?page=50`` of a journal of 2 pages shows page 2 / 2 and says so, not an empty
    table captioned "page 50 / 2"."""
    from core.web import audit as audit_page

    monkeypatch.setattr(audit_page, "PAGE_SIZE", 1)
    login(client, users["manager"])
    r = client.get("/t/alpha/admin/audit/?action=person.read&page=50")
    page = html.unescape(r.get_data(as_text=True))
    assert r.status_code == 200
    assert "La page 50 n'existe pas : la liste s'arrête à la page 2, affichée" in page
    assert "(2), page 2 / 2</caption>" in page and "50 /" not in page
    assert '<li aria-current="page">Page 2 / 2</li>' in page
    assert len(re.findall(r"<tr>\s*<td>.*?</tr>", page, flags=re.S)) == 1
    assert "Aucun événement" not in page


def test_audit_filters_offer_the_labelled_actions_without_reading_the_journal(
        client, users, login, trail, session):
    """The filters list every labelled action and object type (not a ``DISTINCT`` over the
    whole journal, read on each view), the one asked for kept even if unlabelled."""
    from sqlalchemy import event as sa_event

    from core import labels

    login(client, users["manager"])
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    engine = session.get_bind().engine  # the engine: the request runs on its own connection
    sa_event.listen(engine, "before_cursor_execute", seen)
    try:
        page = client.get("/t/alpha/admin/audit/?action=plugin.unlabelled"
                          ).get_data(as_text=True)
    finally:
        sa_event.remove(engine, "before_cursor_execute", seen)
    assert not [s for s in statements if "DISTINCT" in s.upper()]
    assert f'<option value="person.read" >{labels.audit_action("person.read")[0]}' in page
    assert '<option value="plugin.unlabelled" selected>' in page
    assert '<option value="Case" >' in page


def test_audit_page_filters_ignore_like_wildcards(client, users, login, trail):
    login(client, users["manager"])
    page = client.get("/t/alpha/admin/audit/?actor=%25").get_data(as_text=True)
    assert "Aucun événement" in page


@pytest.mark.parametrize("role", ["secretary", "social_worker", "lender_agent", "referrer",
                                  "funder"])
def test_only_the_manager_may_read_the_audit_trail(client, users, login, role):
    login(client, users[role])
    assert client.get("/t/alpha/admin/audit/").status_code == 403


def test_anonymous_is_sent_to_sign_in(client, tenant):
    r = client.get("/t/alpha/admin/audit/")
    assert r.status_code == 302 and "/t/alpha/login" in r.headers["Location"]


def test_audit_page_accepts_only_get(app):
    methods = {m for rule in app.url_map.iter_rules() if rule.endpoint.startswith("audit.")
               for m in rule.methods}
    assert methods <= {"GET", "HEAD", "OPTIONS"}


def test_bad_page_number_falls_back_to_the_first_page(client, users, login, trail):
    login(client, users["manager"])
    assert client.get("/t/alpha/admin/audit/?page=-3").status_code == 200
    assert client.get("/t/alpha/admin/audit/?page=99999999999").status_code == 200


# -- append-only ----------------------------------------------------------------------------


def test_orm_session_refuses_to_modify_an_audit_row(session, in_tenant, tenant, trail):
    with in_tenant(tenant):
        row = session.scalars(select(AuditEvent)).first()
        row.action = "tampered"
        with pytest.raises(audit.AuditTrailImmutable):
            session.flush()
        session.rollback()


def test_orm_session_refuses_to_delete_an_audit_row(session, in_tenant, tenant, trail):
    with in_tenant(tenant):
        row = session.scalars(select(AuditEvent)).first()
        session.delete(row)
        with pytest.raises(audit.AuditTrailImmutable):
            session.flush()
        session.rollback()


def test_orm_bulk_update_of_audit_rows_is_refused(session, in_tenant, tenant, trail):
    with in_tenant(tenant), pytest.raises(audit.AuditTrailImmutable):
        session.execute(update(AuditEvent).values(action="tampered"))
    session.rollback()


def test_no_route_updates_or_deletes_audit_rows(app, client, users, login, trail, operator):
    """Call every route (GET and POST, as the manager and as the operator) and watch the SQL
    sent to the database: never an UPDATE or DELETE of ``audit_events``."""
    from core.db import db

    statements: list[str] = []
    refused: list[BaseException] = []

    def watch(conn, cursor, statement, *args):
        statements.append(statement)

    def on_exception(sender, exception, **extra):
        if isinstance(exception, audit.AuditTrailImmutable):
            refused.append(exception)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", watch)
    got_request_exception.connect(on_exception, app)
    try:
        operator_client = app.test_client()
        login(operator_client, operator)
        login(client, users["manager"])
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static" or rule.rule.endswith("/logout"):
                continue
            path = rule.rule
            for arg in rule.arguments:
                value = "alpha" if arg in ("tenant", "slug") else str(uuid.uuid4())
                path = re.sub(r"<(?:[^:<>]+:)?%s>" % arg, value, path)
            who = operator_client if rule.rule.startswith("/operator") else client
            for method in ("GET", "POST") if "POST" in rule.methods else ("GET",):
                who.open(path, method=method, data={} if method == "POST" else None)
    finally:
        event.remove(engine, "before_cursor_execute", watch)
        got_request_exception.disconnect(on_exception, app)
    assert statements, "the routes ran no SQL at all: the check saw nothing"
    touching = [s for s in statements
                if re.search(r"^\s*(UPDATE\s+audit_events|DELETE\s+FROM\s+audit_events)", s,
                             flags=re.I)]
    assert touching == [] and refused == []


@pytest.mark.postgres_only
def test_app_role_cannot_update_or_delete_audit_rows_in_postgresql(app, trail):
    from sqlalchemy.exc import ProgrammingError

    from core.db import db

    for sql in ("UPDATE audit_events SET action = 'tampered'", "DELETE FROM audit_events",
                "TRUNCATE audit_events"):
        with db.engine.connect() as conn:
            conn.execute(text("SELECT set_config('ccas.cross', 'on', true)"))
            with pytest.raises(ProgrammingError, match="permission denied"):
                conn.execute(text(sql))
    # the rows are still there (read on the owner's side: the app role sees one tenant)
    from core.models import AuditEvent
    from core.testing.pytest_plugin import count_every_tenant

    with app.app_context():
        assert count_every_tenant(AuditEvent) > 0


def test_a_long_detail_value_is_cut_visibly():
    from core.web.audit import DETAIL_SHOWN, detail_items

    [short] = detail_items("person.read", {"field": "phone"})
    assert (short.label, short.text, short.value_is_code) == ("Champ", "phone", True)
    [long] = detail_items("case.list", {"ids": [f"{i:036d}" for i in range(40)]})
    assert len(long.text) == DETAIL_SHOWN and long.text.endswith("…")


def test_a_detail_reads_as_french_labels_its_values_named_where_known(app):
    """Keys in French, values named by their vocabulary (the part of a file read, a
    case's states, where a read came from), yes/no and numbers in French, empty values
    left out; a key or value without a name as recorded, marked as code."""
    from core.web.audit import detail_items

    with app.app_context():
        read = detail_items("case.read", {"view": "synthesis", "surface": "api"})
        moved = detail_items("case.transition", {"source": "intake", "target": "granted",
                                                 "reason": "", "odd_key": "x_y"})
        listed = detail_items("case.list", {"count": 1234, "page": 2, "ids": ["a", "b"]})
        signed_in = detail_items("identity.password_sign_in", {"allowed": False})
        org = detail_items("organisation.create", {"kind": "funder"})
        suggested = detail_items("suggestion.add", {"plugin": "caf"})
        resolved = detail_items("suggestion.resolve", {"status": "mobilised", "label": "APL"})
        from core import labels
        from core.plugins import registry

        caf = registry().get("caf").info.label

        states = labels.vocabulary("case_state")

    def shown(items):
        return [(i.label, i.text, i.key_is_code, i.value_is_code) for i in items]

    assert shown(read) == [("Accès", "API", False, False),
                           ("Partie consultée", "Synthèse", False, False)]
    assert shown(moved) == [("odd_key", "x_y", True, True),  # no reason: left out
                            ("Origine", states["intake"], False, False),
                            ("Destination", states["granted"], False, False)]
    assert shown(listed) == [("Nombre", "1\u202f234", False, False),
                             ("Identifiants", "a, b", False, True),
                             ("Page", "2", False, False)]
    assert shown(signed_in) == [("Autorisé", "non", False, False)]
    assert shown(org) == [("Type", labels.label("organisation_kind", "funder"), False, False)]
    # a plugin by its French name, not its code
    assert shown(suggested) == [("Extension", caf, False, False)] and caf != "caf"
    assert shown(resolved) == [("Libellé", "APL", False, False),
                               ("Statut", labels.label("suggestion_status", "mobilised"), False,
                                False)]


def test_the_journal_shows_details_as_labelled_lists(client, users, login, trail, session,
                                                     in_tenant, tenant):
    with in_tenant(tenant):
        ev = audit.record(session, "case.read", None, view="household", surface="api",
                          plugin_key="raw")
        ev.object_type, ev.object_id = "Case", str(uuid.uuid4())
        session.commit()
    login(client, users["manager"])
    page = html.unescape(client.get("/t/alpha/admin/audit/?action=case.read").get_data(
        as_text=True))
    detail = page.split('<dl class="audit-detail">')[1].split("</dl>")[0]
    assert "<dt>Accès :</dt> <dd>API</dd>" in detail
    assert "<dt>Partie consultée :</dt> <dd>Foyer</dd>" in detail
    assert "<dt><code>plugin_key</code> :</dt> <dd><code>raw</code></dd>" in detail
    assert '{"' not in page  # no raw JSON
