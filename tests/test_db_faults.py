"""Database faults (PostgreSQL): the database going away and coming back (through a TCP
proxy we can cut), and the app's connection killed in the middle of a multi-statement
write. Nothing partial is left, the client gets a clear 503, a retry succeeds, and the
app recovers without a restart."""

from __future__ import annotations

import contextlib
import os
import socket
import threading

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from core.models import AuditEvent, Organisation, Tenant, User

pytestmark = pytest.mark.postgres_only


class TcpProxy:
    """127.0.0.1:<port> -> PostgreSQL; ``cut()`` drops every connection and refuses new
    ones (the database "goes down"), ``restore()`` lets them through again."""

    def __init__(self, upstream_host: str, upstream_port: int):
        self.upstream = (upstream_host, upstream_port)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(32)
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                self.sockets.update({client, server})
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def cut(self):
        self.up = False
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.sockets.clear()

    def restore(self):
        self.up = True

    def close(self):
        self.closed = True
        self.cut()
        self.listener.close()


@pytest.fixture
def proxy(ccas_database):
    url = make_url(ccas_database.app_url)
    p = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    yield p
    p.close()


@pytest.fixture
def proxied_app(ccas_database, app_config, proxy, tenant):
    from core.app import create_app
    from core.testing.pytest_plugin import IsolatedClient

    url = make_url(ccas_database.app_url).set(host="127.0.0.1", port=proxy.port)
    application = create_app({**app_config,
                              "CCAS_DATABASE_URL": url.render_as_string(hide_password=False)})
    application.test_client_class = IsolatedClient
    yield application
    application.extensions["ccas_engine"].dispose()


@pytest.fixture
def admin_engine(ccas_database):
    """A superuser connection to the test database (to kill the app's backend)."""
    url = make_url(os.environ["CCAS_TEST_POSTGRES_URL"]).set(database=ccas_database.name)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def test_readyz_is_503_while_the_database_is_down_and_recovers_by_itself(proxied_app, proxy):
    client = proxied_app.test_client()
    assert client.get("/readyz").status_code == 200
    assert client.get("/t/alpha/login").status_code == 200  # pool has live connections

    proxy.cut()
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.get_json() == {"status": "unavailable", "database": "unreachable"}
    page = client.get("/t/alpha/login")
    assert page.status_code == 503
    body = page.get_data(as_text=True)
    assert "Traceback" not in body and "psycopg" not in body
    assert "momentanément indisponible" in body

    proxy.restore()
    assert client.get("/readyz").status_code == 200  # same app, no restart
    assert client.get("/t/alpha/login").status_code == 200


def test_api_answers_problem_json_503_while_the_database_is_down(proxied_app, proxy):
    client = proxied_app.test_client()
    client.get("/readyz")
    proxy.cut()
    r = client.get("/api/v1/me", headers={"Authorization": "Bearer ccas_1_whatever"})
    assert r.status_code == 503 and r.mimetype == "application/problem+json"
    proxy.restore()


def _kill_when(engine, admin_engine, prefix: str):
    """Terminate the app's backend just before it runs a statement starting with
    ``prefix`` (the first time only)."""
    fired = {"done": False}

    def before(conn, cursor, statement, parameters, context, executemany):
        if not fired["done"] and statement.lstrip().upper().startswith(prefix):
            fired["done"] = True
            pid = conn.connection.dbapi_connection.info.backend_pid
            with admin_engine.connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})

    event.listen(engine, "before_cursor_execute", before)
    return lambda: event.remove(engine, "before_cursor_execute", before), fired


def _count(ccas_database, model, **where) -> int:
    with ccas_database.owner_connection() as conn:
        conn.execute(text("SELECT set_config('ccas.cross', 'on', false)"))
        query = select(func.count()).select_from(model.__table__)
        for column, value in where.items():
            query = query.where(model.__table__.c[column] == value)
        return conn.execute(query).scalar()


def test_killed_connection_during_tenant_creation_leaves_nothing_and_retry_works(
        app, client, operator, login, admin_engine, ccas_database):
    from core.db import db

    login(client, operator)
    audits_before = _count(ccas_database, AuditEvent)
    remove, fired = _kill_when(db.engine, admin_engine, "INSERT INTO ORGANISATIONS")
    try:
        r = client.post("/operator/", data={"slug": "gamma", "name": "CCAS de Gamma",
                                            "city": "Gamma", "timezone": "Europe/Paris"})
    finally:
        remove()
    assert fired["done"]
    assert r.status_code == 503
    assert "Traceback" not in r.get_data(as_text=True)
    assert _count(ccas_database, Tenant, slug="gamma") == 0
    assert _count(ccas_database, Organisation, name="CCAS de Gamma") == 0
    assert _count(ccas_database, AuditEvent) == audits_before

    r = client.post("/operator/", data={"slug": "gamma", "name": "CCAS de Gamma",
                                        "city": "Gamma", "timezone": "Europe/Paris"})
    assert r.status_code == 302
    assert _count(ccas_database, Tenant, slug="gamma") == 1
    assert _count(ccas_database, Organisation, name="CCAS de Gamma") == 1
    # the retry is audited once (opening the city), the failed attempt not at all
    assert _count(ccas_database, AuditEvent, action="tenant.create") == 1
    assert _count(ccas_database, AuditEvent) > audits_before


def test_killed_connection_between_user_and_audit_rows_leaves_no_user(
        app, session, in_tenant, tenant, admin_engine, ccas_database):
    from sqlalchemy.exc import OperationalError

    from core import accounts
    from core.db import db

    remove, fired = _kill_when(db.engine, admin_engine, "INSERT INTO AUDIT_EVENTS")
    try:
        with in_tenant(tenant), pytest.raises(OperationalError):
            accounts.create_user(session, "nouvelle@alpha.test", "secretary", "CCAS de Alpha",
                                 "Un-mot-de-passe-solide-1")
            session.commit()
    finally:
        remove()
        session.rollback()
    assert fired["done"]
    assert _count(ccas_database, User, email="nouvelle@alpha.test") == 0

    with in_tenant(tenant):  # the retry goes through on a fresh connection
        accounts.create_user(session, "nouvelle@alpha.test", "secretary", "CCAS de Alpha",
                             "Un-mot-de-passe-solide-1")
        session.commit()
    assert _count(ccas_database, User, email="nouvelle@alpha.test") == 1
    assert _count(ccas_database, AuditEvent, action="user.create") == 1


# -- a killed connection in the middle of a transition, an import, an outbox drain -------


def test_killed_connection_during_a_transition_leaves_the_case_unchanged(
        app, client, users, api_token, admin_engine, ccas_database):
    from core.db import db
    from core.models import Case, CaseTransition

    headers = {"Authorization": f"Bearer {api_token(users['secretary'])}"}
    opened = client.post("/api/v1/cases", headers=headers, json={
        "person": {"first_name": "Inès", "last_name": "Faute", "birth_date": "1990-03-04"},
        "purpose": "mobility", "amount_requested": "900.00"}).get_json()
    moves_before = _count(ccas_database, CaseTransition)
    remove, fired = _kill_when(db.engine, admin_engine, "INSERT INTO CASE_TRANSITIONS")
    try:
        r = client.post(f"/api/v1/cases/{opened['id']}/transitions", headers=headers,
                        json={"to": "documents_requested", "version": opened["version"]})
    finally:
        remove()
    assert fired["done"] and r.status_code == 503
    assert r.mimetype == "application/problem+json"
    assert _count(ccas_database, CaseTransition) == moves_before
    assert _count(ccas_database, Case, state="intake") == 1
    retry = client.post(f"/api/v1/cases/{opened['id']}/transitions", headers=headers,
                        json={"to": "documents_requested", "version": opened["version"]})
    assert retry.status_code == 200 and retry.get_json()["state"] == "documents_requested"
    assert _count(ccas_database, CaseTransition) == moves_before + 1


IMPORT_FILE = (
    "reference;date_demande;nom;prenom;date_naissance;objet;montant_demande\n"
    "A-1;2018-02-01;Durand;Marie;1990-01-01;mobilité;1200\n"
    "A-2;2018-03-05;Martin;Paul;1985-06-30;logement;800\n"
).encode()


def test_killed_connection_during_an_import_writes_nothing_and_retry_imports_all(
        app, session, tenant, in_tenant, admin_engine, ccas_database):
    from sqlalchemy.exc import DBAPIError

    from core.db import db
    from core.importer import run_import
    from core.models import Case, Person

    remove, fired = _kill_when(db.engine, admin_engine, "INSERT INTO CASES")
    try:
        with in_tenant(tenant), pytest.raises(DBAPIError):
            run_import(session, tenant, IMPORT_FILE, "historique.csv")
            session.commit()
    finally:
        remove()
    session.rollback()
    assert fired["done"]
    assert _count(ccas_database, Case) == 0 and _count(ccas_database, Person) == 0
    with in_tenant(tenant):
        result = run_import(session, tenant, IMPORT_FILE, "historique.csv")
        session.commit()
    assert result.created == 2
    assert _count(ccas_database, Case) == 2


def test_killed_connection_during_an_outbox_drain_loses_and_duplicates_nothing(
        app, session, tenant, in_tenant, admin_engine, ccas_database):
    import socket as _socket

    from aiosmtpd.controller import Controller

    from core.db import db
    from core.models import OutboxMessage
    from core.outbox import delivery, enqueue_email

    received = []

    class Inbox:
        async def handle_DATA(self, server, smtp_session, envelope):  # noqa: N802
            received.append(envelope.content)
            return "250 OK"

    with _socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(CCAS_SMTP_HOST="127.0.0.1", CCAS_SMTP_PORT=port, CCAS_SMTP_TLS="none")
    try:
        with in_tenant(tenant):
            enqueue_email(session, "personne@example.org", "Rendez-vous", "Bonjour")
            session.commit()
        # The claim (status pending -> sending) is the drain's first write.
        remove, fired = _kill_when(db.engine, admin_engine, "UPDATE OUTBOX_MESSAGES")
        try:
            with contextlib.suppress(Exception):
                delivery.drain(app)
        finally:
            remove()
        assert fired["done"]
        assert received == []
        assert _count(ccas_database, OutboxMessage, status="pending") == 1
        stats = delivery.drain(app)
        assert stats.sent == 1 and len(received) == 1
        assert _count(ccas_database, OutboxMessage, status="sent") == 1
        assert delivery.drain(app).sent == 0 and len(received) == 1
    finally:
        controller.stop()
