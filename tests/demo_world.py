"""The demo city built once per test module (default seed, two years up to the pinned
clock's day) and its tenant in scope: the fixtures of the modules that read the demo
(``from tests.demo_world import toulouse, world``)."""

from __future__ import annotations

import pytest
from flask import g

from core import demo, tenancy
from core.app import create_app
from core.db import db
from core.testing.pytest_plugin import TEST_WALL_KEY


@pytest.fixture(scope="module")
def world(ccas_database):
    """The demo built once for the module: ``(app, what create_demo returned)``."""
    app = create_app({
        "CCAS_ENV": "test", "CCAS_DATABASE_URL": ccas_database.app_url,
        "CCAS_DATABASE_OWNER_URL": ccas_database.owner_url, "SECRET_KEY": "test-secret",
        "CCAS_TENANT_WALL_KEY": TEST_WALL_KEY,
        "WTF_CSRF_ENABLED": False, "CCAS_LOG_LEVEL": "WARNING",
        "CCAS_BASE_URL": "http://localhost",
    })
    ctx = app.app_context()
    ctx.push()
    try:
        result = demo.create_demo(db.session)
        db.session.commit()
        yield app, result
    finally:
        db.session.rollback()
        ctx.pop()
        ccas_database.empty()


@pytest.fixture
def toulouse(world):
    """The demo's tenant, set for the test (scope and ``g.tenant``)."""
    _app, result = world
    tenant = db.session.merge(result["tenant"])
    with tenancy.tenant_scope(tenant.id):
        g.tenant = tenant
        yield tenant
