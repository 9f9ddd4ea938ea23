"""Plugin discovery, compatibility, per-tenant enablement, settings."""

from __future__ import annotations

import re
import types
from decimal import Decimal

import pytest
from flask import Blueprint

from core import plugins
from core.plugin_api import NavItem, PluginInfo, hookimpl
from core.policy import allow

SHIPPED = {"credit_municipal", "caf", "secours_catholique", "adie"}


def make_plugin(name="probe", core_requires=">=0.1", with_blueprint=True):
    """A throw-away plugin module with a nav item and a page."""
    module = types.ModuleType(f"test_plugin_{name}")
    bp = Blueprint(name, __name__)

    @bp.route("/hello")
    @allow("manager", "secretary")
    def hello():
        return f"hello from {name}"

    @hookimpl
    def ccas_plugin_info():
        return PluginInfo(name=name, label=name.title(), version="1.0",
                          core_requires=core_requires)

    @hookimpl
    def ccas_nav_items(user):
        return [NavItem(label=f"{name} page", endpoint=f"{name}.hello")]

    @hookimpl
    def ccas_blueprints():
        return [bp] if with_blueprint else []

    module.ccas_plugin_info = ccas_plugin_info
    module.ccas_nav_items = ccas_nav_items
    module.ccas_blueprints = ccas_blueprints
    return module


@pytest.fixture
def probe_app(ccas_database, app_config):
    from core.app import create_app
    from core.testing.pytest_plugin import IsolatedClient

    registry = plugins.PluginRegistry()
    registry.load_entry_points()
    registry.register(make_plugin("probe"), "probe")
    application = create_app(app_config, registry=registry)
    application.test_client_class = IsolatedClient
    return application


def test_shipped_plugins_are_discovered_through_the_entry_point(app):
    reg = plugins.registry()
    assert set(reg.usable()) >= SHIPPED
    for name in SHIPPED:
        info = reg.get(name).info
        assert info.name == name and info.label and info.version


def test_credit_municipal_defaults_match_the_seed(app):
    settings = plugins.registry().load_settings("credit_municipal", {})
    assert settings["annual_rate"] == Decimal("3.04")
    assert settings["amount_min"] == Decimal("300")
    assert settings["amount_max"] == Decimal("3000")
    assert settings["max_months"] == 36
    assert settings["interest_paid_by_city"] == Decimal("100")
    assert settings["city_guarantee"] == Decimal("15")


def test_incompatible_plugin_is_refused_with_a_reason():
    reg = plugins.PluginRegistry()
    loaded = reg.register(make_plugin("future", core_requires=">=99"), "future")
    assert not loaded.usable
    assert "requires ccas-network >=99" in loaded.refused
    with pytest.raises(plugins.PluginError, match="inutilisable"):
        reg.get("future")


def test_plugin_without_metadata_is_refused():
    reg = plugins.PluginRegistry()
    loaded = reg.register(types.ModuleType("bare"), "bare")
    assert "metadata missing" in loaded.refused


def test_typo_in_a_hook_name_fails_loudly():
    module = make_plugin("typo")

    @hookimpl
    def ccas_nav_itemz(user):
        return []

    module.ccas_nav_itemz = ccas_nav_itemz
    reg = plugins.PluginRegistry()
    loaded = reg.register(module, "typo")
    assert not loaded.usable and "ccas_nav_itemz" in loaded.refused
    assert reg.pm.get_plugin("typo") is None and "typo" in reg.refused()


def test_plugin_hooks_answer_only_for_tenants_that_enabled_it(
    probe_app, make_tenant, make_user, enable_plugin, in_tenant
):
    with probe_app.app_context():
        a, b = make_tenant("alpha"), make_tenant("beta")
        enable_plugin(a, "probe")
        user_a = make_user(a, "manager")
        with in_tenant(a):
            answers = plugins.hooks().ccas_nav_items.answers(user=user_a)
            assert [i.label for p, r in answers.results if p == "probe" for i in r] == [
                "probe page"]
        plugins.forget_enabled_cache()
        with in_tenant(b):
            answers = plugins.hooks().ccas_nav_items.answers(user=user_a)
            assert "probe" not in [p for p, _r in answers.results]
            assert "core.web.cases" in [p for p, _r in answers.results]


def test_disabled_plugins_pages_answer_404(
    probe_app, make_tenant, make_user, enable_plugin, login
):
    with probe_app.app_context():
        a, b = make_tenant("alpha"), make_tenant("beta")
        enable_plugin(a, "probe")
        user_a, user_b = make_user(a, "manager"), make_user(b, "manager")
    client_a, client_b = probe_app.test_client(), probe_app.test_client()
    login(client_a, user_a)
    login(client_b, user_b)
    r = client_a.get("/t/alpha/p/probe/hello")
    assert r.status_code == 200 and r.get_data(as_text=True) == "hello from probe"
    assert client_b.get("/t/beta/p/probe/hello").status_code == 404
    # The nav shows the plugin's entry only where it is enabled.
    assert "probe page" in client_a.get("/t/alpha/").get_data(as_text=True)
    assert "probe page" not in client_b.get("/t/beta/").get_data(as_text=True)


def test_disabling_a_plugin_closes_its_pages(
    probe_app, make_tenant, make_user, enable_plugin, login, in_tenant
):
    from core.db import db

    with probe_app.app_context():
        a = make_tenant("alpha")
        enable_plugin(a, "probe")
        user = make_user(a, "manager")
        client = probe_app.test_client()
        login(client, user)
        assert client.get("/t/alpha/p/probe/hello").status_code == 200
        with in_tenant(a):
            plugins.set_enabled(db.session, "probe", False)
            db.session.commit()
        assert client.get("/t/alpha/p/probe/hello").status_code == 404


def test_invalid_setting_is_refused_with_the_fields_message(app, tenant, session, in_tenant):
    with in_tenant(tenant):
        with pytest.raises(plugins.PluginError) as err:
            plugins.update_settings(session, "credit_municipal", {"max_months": 500})
        assert "max_months" in err.value.errors
        session.rollback()
        assert plugins.plugin_settings("credit_municipal")["max_months"] == 36


def test_valid_setting_is_stored_per_tenant(app, tenant, other_tenant, session, in_tenant):
    with in_tenant(tenant):
        plugins.update_settings(session, "credit_municipal", {"annual_rate": "2.50"})
        session.commit()
        assert plugins.plugin_settings("credit_municipal")["annual_rate"] == Decimal("2.50")
    with in_tenant(other_tenant):
        assert plugins.plugin_settings("credit_municipal")["annual_rate"] == Decimal("3.04")


def test_manager_edits_settings_on_the_settings_page(client, users, login, session, in_tenant,
                                                     tenant):
    login(client, users["manager"])
    page = client.get("/t/alpha/admin/plugins/credit_municipal")
    assert page.status_code == 200
    assert '<label for="annual_rate">Taux annuel fixe</label>' in page.get_data(as_text=True)
    form = {"annual_rate": "2,75", "amount_min": "300", "amount_max": "3000", "max_months": "36",
            "schedule_method": "annuity", "interest_paid_by_city": "100", "city_guarantee": "15",
            "fcs_guarantee": "50", "allowed_purposes": ["mobility"], "contact_email": ""}
    bad = client.post("/t/alpha/admin/plugins/credit_municipal", data={**form, "max_months": "x"})
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.get_data(as_text=True)
    ok = client.post("/t/alpha/admin/plugins/credit_municipal",
                     data={**form, "contact_email": "pret@cm.fr"})
    assert ok.status_code == 302
    with in_tenant(tenant):
        settings = plugins.plugin_settings("credit_municipal")
    assert settings["annual_rate"] == Decimal("2.75")
    assert settings["allowed_purposes"] == ["mobility"]


def test_unknown_plugin_is_a_clear_error(app, tenant, session, in_tenant):
    with in_tenant(tenant), pytest.raises(plugins.PluginError, match="Extension inconnue"):
        plugins.set_enabled(session, "nope", True)


def test_a_raising_plugin_info_is_refused_not_fatal():
    module = types.ModuleType("broken")

    @hookimpl
    def ccas_plugin_info():
        raise RuntimeError("bad plugin")

    module.ccas_plugin_info = ccas_plugin_info
    loaded = plugins.PluginRegistry().register(module, "broken")
    assert not loaded.usable


def test_a_plugin_blueprint_called_api_under_a_prefix_with_api_keeps_its_csrf_check(
        ccas_database, app_config, make_tenant, make_user, enable_plugin):
    """0.1 exempted any plugin blueprint whose name starts with "api" or whose prefix
    contains "api" (``/capital``): a cookie-authenticated form there had no CSRF check.
    Now only the views marked ``@token_authenticated`` skip it."""
    from core.app import create_app
    from core.testing.pytest_plugin import IsolatedClient

    module = make_plugin("apicapital")
    bp = Blueprint("api_capital", __name__)

    @bp.route("/capital/transfer", methods=["POST"])
    @allow("manager")
    def transfer():
        return "moved"

    module.ccas_blueprints = hookimpl(lambda: [bp])
    module.ccas_nav_items = hookimpl(lambda: [])
    registry = plugins.PluginRegistry()
    registry.load_entry_points()
    registry.register(module, "apicapital")
    application = create_app({**app_config, "WTF_CSRF_ENABLED": True}, registry=registry)
    application.test_client_class = IsolatedClient
    with application.app_context():
        tenant = make_tenant("alpha")
        enable_plugin(tenant, "apicapital")
        manager = make_user(tenant, "manager")
        client = application.test_client()
        page = client.get("/t/alpha/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        signed_in = client.post("/t/alpha/login", data={
            "email": manager.email, "password": "Test-password-2026!", "csrf_token": token})
        assert signed_in.status_code == 302
        refused = client.post("/t/alpha/p/apicapital/capital/transfer")
        assert refused.status_code == 400 and "moved" not in refused.get_data(as_text=True)


def test_loaded_settings_are_copies_a_caller_cannot_change_for_the_next(app):
    """The typed settings are loaded once per stored form and cached: each caller gets
    its own copy, so a change made by one never reaches another request or tenant."""
    reg = plugins.registry()
    first = reg.load_settings("credit_municipal", {"amount_max": "2500"})
    first["amount_max"] = Decimal("1")
    first["injected"] = ["x"]
    again = reg.load_settings("credit_municipal", {"amount_max": "2500"})
    assert again["amount_max"] == Decimal("2500") and "injected" not in again
    assert reg.load_settings("credit_municipal", {})["amount_max"] == Decimal("3000")


# -- the enabled plugins kept per process under the tenant's plugins_stamp ---------------


def _plugin_state_reads(app):
    """A list that grows by one per statement reading ``plugin_states``."""
    from sqlalchemy import event

    from core.db import db

    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        if "FROM plugin_states" in statement:
            seen.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", note)
    return seen


def _request_enabled(app, session, tenant, in_tenant):
    """What a request of ``tenant`` sees: its tenant row read, then the enabled set."""
    with app.test_request_context():
        session.refresh(tenant)
        with in_tenant(tenant):  # the request's tenant row, as core.app sets it
            plugins.forget_enabled_cache()  # a new request's g (the tests share one)
            return plugins.enabled_plugins()


def test_a_request_reads_the_enabled_plugins_once_per_change_of_the_tenant(
        app, tenant, session, in_tenant, enable_plugin):
    reads = _plugin_state_reads(app)
    enable_plugin(tenant, "caf")
    assert _request_enabled(app, session, tenant, in_tenant) == {"caf"}
    before = len(reads)
    assert before > 0, "the first request read plugin_states"
    assert _request_enabled(app, session, tenant, in_tenant) == {"caf"}
    assert len(reads) == before, "the second request read plugin_states again"
    # a change, as another worker makes it (a new stamp, nothing forgotten here)
    with in_tenant(tenant):
        plugins.set_enabled(session, "adie", True)
        session.commit()
    assert _request_enabled(app, session, tenant, in_tenant) == {"caf", "adie"}
    with in_tenant(tenant):
        plugins.update_settings(session, "caf", {"family_quotient_threshold": 650})
        session.commit()
    with app.test_request_context():
        session.refresh(tenant)
        with in_tenant(tenant):
            assert plugins.plugin_settings("caf")["family_quotient_threshold"] == 650


def test_a_rolled_back_change_keeps_the_stamp_and_the_set(app, tenant, session, in_tenant,
                                                         enable_plugin):
    enable_plugin(tenant, "caf")
    stamp = tenant.plugins_stamp
    with in_tenant(tenant):
        plugins.set_enabled(session, "adie", True)
        session.rollback()
    session.refresh(tenant)
    assert tenant.plugins_stamp == stamp
    assert _request_enabled(app, session, tenant, in_tenant) == {"caf"}


def test_every_tenant_has_its_own_stamp_and_its_own_set(app, tenant, other_tenant, session,
                                                        in_tenant, enable_plugin):
    enable_plugin(tenant, "caf")
    assert tenant.plugins_stamp and other_tenant.plugins_stamp
    assert tenant.plugins_stamp != other_tenant.plugins_stamp
    assert _request_enabled(app, session, tenant, in_tenant) == {"caf"}
    assert _request_enabled(app, session, other_tenant, in_tenant) == frozenset()


def test_a_tenant_row_not_read_by_the_request_is_no_key(app, tenant, other_tenant, session,
                                                         in_tenant, enable_plugin):
    """A request of one tenant working in another (the operator's pages) reads the
    other's plugins from the database, never the cache of the request's tenant."""
    from flask import g
    enable_plugin(tenant, "caf")
    assert _request_enabled(app, session, tenant, in_tenant) == {"caf"}
    with app.test_request_context(), in_tenant(other_tenant):
        g.tenant = tenant
        assert plugins.enabled_plugins() == frozenset()


def test_the_process_cache_of_enabled_plugins_stays_bounded(app, tenant, session, in_tenant,
                                                            enable_plugin, monkeypatch):
    """Past its bound the oldest entry goes: a process serving many tenants (or many
    changes) does not grow without limit, and the set it serves stays right."""
    monkeypatch.setattr(plugins, "_ENABLED_BY_STAMP", {})
    monkeypatch.setattr(plugins, "_ENABLED_BY_STAMP_MAX", 1)
    enable_plugin(tenant, "caf")
    for name in ("adie", "secours_catholique"):
        with in_tenant(tenant):
            plugins.set_enabled(session, name, True)
            session.commit()
        _request_enabled(app, session, tenant, in_tenant)
    assert len(plugins._ENABLED_BY_STAMP) == 1  # the older stamp went
    assert _request_enabled(app, session, tenant, in_tenant) == {
        "caf", "adie", "secours_catholique"}
