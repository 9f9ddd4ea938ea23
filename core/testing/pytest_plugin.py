"""pytest plugin shipped with ccas-network (entry point ``pytest11``).

Our own tests and third-party plugins' tests use the same fixtures:

* ``app``: a fresh application on a migrated database, emptied after each test.
  SQLite by default; PostgreSQL when ``CCAS_TEST_POSTGRES_URL`` names an admin
  connection (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``): a database
  of its own is created for the run, migrated by an owner role, and the app connects as a
  non-owner role so that row-level security applies.
* ``client``: Flask test client; ``session``: the app's (tenant-aware) session.
* ``make_tenant(slug)``, ``tenant`` and ``other_tenant``; ``make_user(tenant, role, …)``;
  ``users`` (one per role in ``tenant``); ``login(client, user)``; ``api_token(user)``;
  ``enable_plugin(tenant, name, **settings)``; ``in_tenant(tenant)`` context manager.
* ``TEST_PASSWORD`` is every test user's password.
* The clock (``core.clock``) is pinned for every test to ``TEST_NOW`` (an ordinary
  weekday morning in Paris), or to ``CCAS_TEST_NOW`` when set (an ISO instant; without
  an offset it is read in Europe/Paris), so that no result depends on the day the suite
  runs. ``clock`` moves it inside a test: ``clock.travel_to("2026-12-31T23:30")``.
"""

from __future__ import annotations

import contextvars
import os
import re
import secrets
import tempfile
import types
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import current_app, g
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import make_url

from core import accounts, migrate, plugins, rawsql, tenancy
from core import clock as platform_clock
from core import config as config_module
from core.accounts.credentials import hash_password
from core.app import create_app
from core.cli import main
from core.db import db
from core.models import Base, Organisation, Tenant
from core.plugin_api import PluginInfo, hookimpl

TEST_PASSWORD = "Test-password-2026!"  # noqa: S105 - test fixtures only
_HASH: dict[str, str] = {}

#: The instant every test starts at, unless ``CCAS_TEST_NOW`` says otherwise.
TEST_NOW = "2026-11-16T10:00:00+01:00"

#: The tenant wall's key of the test database (docs/security.md, "the database wall").
TEST_WALL_KEY = "test-tenant-wall-key"  # noqa: S105 - test fixtures only

OWNER_ROLE = "ccas_owner"
APP_ROLE = "ccas_app"


def _password_hash() -> str:
    if "h" not in _HASH:
        _HASH["h"] = hash_password(TEST_PASSWORD)
    return _HASH["h"]


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres_only: needs PostgreSQL")
    config.addinivalue_line("markers", "sqlite_only: needs SQLite")


def pytest_collection_modifyitems(config, items):
    on_pg = bool(os.environ.get("CCAS_TEST_POSTGRES_URL"))
    for item in items:
        if "postgres_only" in item.keywords and not on_pg:
            item.add_marker(pytest.mark.skip(reason="PostgreSQL run only (CCAS_TEST_POSTGRES_URL)"))
        if "sqlite_only" in item.keywords and on_pg:
            item.add_marker(pytest.mark.skip(reason="SQLite run only"))


def start_instant():
    """The instant each test starts at (``CCAS_TEST_NOW`` or ``TEST_NOW``)."""
    return platform_clock.parse_instant(os.environ.get("CCAS_TEST_NOW") or TEST_NOW)


class ClockControl:
    """The ``clock`` fixture: ``travel_to(instant)`` pins the platform's clock there (an
    ISO string read in Europe/Paris without an offset, or an aware ``datetime``);
    ``now()`` and ``today()`` read it."""

    def travel_to(self, instant):
        if isinstance(instant, str):
            instant = platform_clock.parse_instant(instant)
        platform_clock.set_now(instant)

    @staticmethod
    def now():
        return platform_clock.now()

    @staticmethod
    def today(tenant=None):
        return platform_clock.today(tenant)


@pytest.fixture(scope="session", autouse=True)
def _pinned_clock_for_the_session():
    """Session- and module-scoped fixtures run on the pinned clock too."""
    platform_clock.set_now(start_instant())
    yield
    platform_clock.set_now(None)


@pytest.fixture(autouse=True)
def clock(_pinned_clock_for_the_session):
    """Pins the platform's clock for the test (see the module's docstring): every test
    starts at the same instant."""
    platform_clock.set_now(start_instant())
    yield ClockControl()
    platform_clock.set_now(start_instant())


class TestDatabase:
    """A migrated database for one test run; ``app_url`` is what the app connects with."""

    def __init__(self, tmp: Path):
        admin = os.environ.get("CCAS_TEST_POSTGRES_URL")
        self.dialect = "postgresql" if admin else "sqlite"
        if admin:
            self.admin_url = admin
            self.name = f"ccas_test_{os.getpid()}_{secrets.token_hex(3)}"
            engine = create_engine(admin, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                rawsql.ensure_role(conn, OWNER_ROLE)
                rawsql.ensure_role(conn, APP_ROLE)
                rawsql.create_database(conn, self.name, OWNER_ROLE)
            engine.dispose()
            base = make_url(admin).set(database=self.name)
            self.owner_url = base.set(username=OWNER_ROLE, password=None).render_as_string(
                hide_password=False
            )
            self.app_url = base.set(username=APP_ROLE, password=None).render_as_string(
                hide_password=False
            )
        else:
            path = tmp / "ccas-test.sqlite3"
            self.owner_url = self.app_url = f"sqlite:///{path}"

        migrate.upgrade(self.owner_url, APP_ROLE if admin else None,
                        config_module.wall_key({"CCAS_TENANT_WALL_KEY": TEST_WALL_KEY}))
        self._owner_engine = create_engine(self.owner_url)

    def app_config(self, **extra) -> dict:
        """The configuration of an application on this database (benchmarks, scripts):
        its URLs and the tenant wall's key the database was set up with."""
        return {"CCAS_ENV": "test", "CCAS_DATABASE_URL": self.app_url,
                "CCAS_DATABASE_OWNER_URL": self.owner_url, "SECRET_KEY": "bench",
                "CCAS_TENANT_WALL_KEY": TEST_WALL_KEY, "CCAS_LOG_LEVEL": "WARNING", **extra}

    def empty(self) -> None:
        existing = set(inspect(self._owner_engine).get_table_names())
        tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in existing]
        with self._owner_engine.begin() as conn:
            rawsql.empty_tables(conn, tables)

    def count(self, model) -> int:
        """Rows of ``model``'s table in every tenant (read on the owner's side: through
        the application role the database wall shows one tenant at a time)."""
        with self._owner_engine.connect() as conn:
            return rawsql.count_every_tenant(conn, model.__tablename__)

    def owner_connection(self):
        """A Core connection as the owner (tests that bypass the ORM on purpose)."""
        return self._owner_engine.connect()

    def drop(self) -> None:
        self._owner_engine.dispose()

        db.dispose()
        if self.dialect == "postgresql":
            engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                rawsql.drop_database(conn, self.name)
            engine.dispose()


@pytest.fixture(scope="session")
def ccas_database():
    with tempfile.TemporaryDirectory(prefix="ccas-test-") as tmp:
        database = TestDatabase(Path(tmp))
        try:
            yield database
        finally:
            database.drop()


@pytest.fixture
def app_config(ccas_database, tmp_path) -> dict:
    """Override to change the test app's configuration."""
    return {
        "CCAS_ENV": "test",
        "CCAS_DATABASE_URL": ccas_database.app_url,
        "CCAS_DATABASE_OWNER_URL": ccas_database.owner_url,
        "SECRET_KEY": "test-secret",
        "CCAS_TENANT_WALL_KEY": TEST_WALL_KEY,
        "WTF_CSRF_ENABLED": False,
        "CCAS_LOG_LEVEL": "WARNING",
        "CCAS_BASE_URL": "http://localhost",
        "CCAS_FILES_DIR": str(tmp_path / "files"),
    }


class IsolatedClient(FlaskClient):
    """Runs each request in an empty ``contextvars`` context, as a real server would: the
    request gets its own app context, ``g``, session and tenant, not the test's."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def check_installed_plugins(registry) -> None:
    """Fail the test when an installed plugin was refused at start-up: the platform
    serves without it, a test suite must not pass without it."""
    refused = registry.refused()
    if refused:
        pytest.fail("installed plugin(s) refused: " + "; ".join(
            f"{name}: {why}" for name, why in sorted(refused.items())), pytrace=False)


@pytest.fixture
def app(ccas_database, app_config):
    application = create_app(app_config)
    check_installed_plugins(application.extensions["ccas_plugins"])
    application.test_client_class = IsolatedClient
    ctx = application.app_context()
    ctx.push()
    try:
        yield application
    finally:
        ctx.pop()
        ccas_database.empty()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def session(app):
    return db.session


@contextmanager
def _in_tenant(tenant):
    previous = g.get("tenant")
    with tenancy.tenant_scope(tenant.id if tenant is not None else None):
        g.tenant = tenant
        try:
            yield tenant
        finally:
            g.tenant = previous


@pytest.fixture
def in_tenant(app):
    """``with in_tenant(t): ...`` runs the block as tenant ``t``."""
    return _in_tenant


@pytest.fixture
def make_tenant(session):
    def make(slug: str, name: str | None = None):
        t = accounts.create_tenant(session, slug, name or f"CCAS {slug.title()}", slug.title())
        with _in_tenant(t):
            accounts.create_organisation(session, f"CCAS de {t.city}", "ccas")
            session.commit()
        return t

    return make


@pytest.fixture
def tenant(make_tenant):
    return make_tenant("alpha")


@pytest.fixture
def other_tenant(make_tenant):
    return make_tenant("beta")


@pytest.fixture
def make_user(session):
    counter = {"n": 0}

    def make(tenant, role: str, org: str | None = None, email: str | None = None,
             org_kind: str = "other"):
        counter["n"] += 1
        with _in_tenant(tenant):
            if org is None:
                org = session.scalar(
                    select(Organisation.name).where(Organisation.kind == "ccas")
                )
            elif session.scalar(select(Organisation.id).where(Organisation.name == org)) is None:
                accounts.create_organisation(session, org, org_kind)
            user = accounts.create_user(
                session,
                email or f"{role}{counter['n']}@{tenant.slug}.test",
                role,
                org,
                None,
                full_name=f"{role.title()} {counter['n']}",
                password_hash=_password_hash(),
            )
            session.commit()
        return user

    return make


ROLES = ("manager", "secretary", "social_worker", "lender_agent", "referrer", "funder")
ROLE_ORGS = {
    "lender_agent": ("Crédit Municipal", "lender"),
    "referrer": ("Association partenaire", "association"),
    "funder": ("Ville", "funder"),
}


@pytest.fixture
def users(tenant, make_user):
    """One user per role in ``tenant`` (partners in their own organisations)."""
    out = {}
    for role in ROLES:
        org, kind = ROLE_ORGS.get(role, (None, "ccas"))
        out[role] = make_user(tenant, role, org=org, org_kind=kind)
    return out


def _tenant_and_email(user):
    """The tenant and e-mail of a (possibly expired) test user: read through its identity
    key, inside its tenant, so that PostgreSQL's row-level security lets the row load."""
    identity = sa_inspect(user).identity
    tenant_id = identity[0] if identity else user.tenant_id
    tenant = db.session.get(Tenant, tenant_id)
    with _in_tenant(tenant):
        return tenant, user.email


def count_every_tenant(model) -> int:
    """Rows of ``model``'s table in every tenant, read on the owner's side (the test
    app's ``CCAS_DATABASE_OWNER_URL``): through the application role the database wall
    shows one tenant at a time."""
    engine = create_engine(current_app.config["CCAS_DATABASE_OWNER_URL"])
    try:
        with engine.connect() as conn:
            return rawsql.count_every_tenant(conn, model.__tablename__)
    finally:
        engine.dispose()


def csrf_token_of(client, url: str) -> str:
    """The CSRF token of the form on page ``url`` (tests that run with CSRF on)."""
    page = client.get(url).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, f"no CSRF token on {url}"
    return found[1]


@pytest.fixture
def login():
    def do(client, user, password: str = TEST_PASSWORD):
        if getattr(user, "is_operator", False):
            url, email = "/operator/login", user.email
        else:
            tenant, email = _tenant_and_email(user)
            url = f"/t/{tenant.slug}/login"
        data = {"email": email, "password": password}
        if client.application.config.get("WTF_CSRF_ENABLED", True):
            data["csrf_token"] = csrf_token_of(client, url)
        response = client.post(url, data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return do


@pytest.fixture
def api_token(session):
    def make(user, expires_days: int | None = None) -> str:
        tenant, email = _tenant_and_email(user)
        with _in_tenant(tenant):
            _row, clear = accounts.create_token(session, email, "test", expires_days)
            session.commit()
        return clear

    return make


@pytest.fixture
def enable_plugin(session):
    """``enable_plugin(tenant, "caf", family_quotient_threshold=700)``."""
    def enable(tenant, name: str, **settings):
        with _in_tenant(tenant):
            plugins.set_enabled(session, name, True)
            if settings:
                plugins.update_settings(session, name, settings)
            session.commit()
            plugins.forget_enabled_cache()

    return enable


@pytest.fixture
def operator(session):
    op = accounts.create_operator(session, "operator@platform.test", TEST_PASSWORD)
    session.commit()
    return op


def probe_plugin(name: str, **impls):
    """A throw-away plugin module named ``name`` implementing the given hooks, e.g.
    ``probe_plugin("vetoer", ccas_case_before_transition=lambda transition: "non")``."""
    module = types.ModuleType(name)

    @hookimpl
    def ccas_plugin_info():
        return PluginInfo(name=name, label=name.upper(), version="1")

    module.ccas_plugin_info = ccas_plugin_info
    for hook, fn in impls.items():
        setattr(module, hook, hookimpl(fn))
    return module


@pytest.fixture
def with_plugin(app, tenant, enable_plugin):
    """``with_plugin(probe_plugin(...))`` registers a plugin for the test and enables it for
    ``tenant``; it is unregistered afterwards."""

    registered = []

    def add(module):
        plugins.registry().register(module, module.__name__)
        enable_plugin(tenant, module.__name__)
        registered.append(module.__name__)

    yield add
    for name in registered:
        plugins.registry().unregister(name)


@pytest.fixture
def ccas(ccas_database, monkeypatch, app):
    """Run the ``ccas`` command against the test database: ``ccas("tenant", "list")``;
    ``input=`` feeds standard input. Returns click's ``Result`` (``exit_code``, ``output``)."""

    monkeypatch.setenv("CCAS_DATABASE_URL", ccas_database.app_url)
    monkeypatch.setenv("CCAS_TENANT_WALL_KEY", TEST_WALL_KEY)
    monkeypatch.setenv("CCAS_DATABASE_OWNER_URL", ccas_database.owner_url)
    monkeypatch.setenv("CCAS_ENV", "test")
    monkeypatch.setenv("CCAS_LOG_LEVEL", "WARNING")
    if app.config.get("CCAS_FILES_DIR"):
        monkeypatch.setenv("CCAS_FILES_DIR", app.config["CCAS_FILES_DIR"])
    runner = CliRunner()

    def run(*args, input=None):  # noqa: A002 - click's name
        return runner.invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)

    return run


class RecordingSmsProvider:
    """A test SMS provider: a throw-away plugin (``sms_test``) answering
    ``ccas_sms_send`` that records every message instead of sending it."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []
        sent = self.sent

        def ccas_sms_send(phone, text):
            sent.append((phone, text))
            return f"test-{len(sent)}"

        self.module = probe_plugin("sms_test", ccas_sms_send=ccas_sms_send)


@pytest.fixture
def sms_provider(with_plugin):
    """An SMS provider that records the messages (``sms_provider.sent``), enabled for
    ``tenant``; no real provider is ever called in tests."""
    provider = RecordingSmsProvider()
    with_plugin(provider.module)
    return provider
