"""The demo city built once per test module (default seed, two years up to the pinned
clock's day) and its tenant in scope: the fixtures of the modules that read the demo
(``from tests.demo_world import toulouse, world``)."""

from __future__ import annotations

import pytest
from flask import g

from core import demo, tenancy
from core.app import create_app
from core.db import db


@pytest.fixture(scope="module")
def world(ccas_database):
    """The demo built once for the module: ``(app, what create_demo returned)``."""
    app = create_app(ccas_database.app_config(
        SECRET_KEY="test-secret", WTF_CSRF_ENABLED=False, CCAS_BASE_URL="http://localhost"))
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
