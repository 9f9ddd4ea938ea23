"""A broken plugin never takes the platform down.

* Decorating hooks (menu, dashboard and case-page blocks, suggestions, destinations,
  report sections): a plugin raising in every one of them leaves every page of every role
  answering, and each failure is logged with the plugin's name.
* Deciding hooks (checks, vetoes, reactions): a plugin raising refuses the action with a
  message naming it, and nothing is written.
* At start-up: a plugin whose hooks do not exist, whose workflow does not fit or whose
  blueprints fail to register is refused; the platform starts without it, and
  ``ccas plugins list`` and ``/readyz`` say why.
"""

from __future__ import annotations

import re
import types
from datetime import date
from urllib.parse import urlsplit

import pytest
from flask import Blueprint
from sqlalchemy import func, select

from core import cases, plugins, workflow
from core.models import CaseTransition, State
from core.plugin_api import CaseState, CaseWorkflow, PluginInfo, Transition, hookimpl
from core.testing.pytest_plugin import probe_plugin
from core.workflow import TransitionError, TransitionRequest

DECORATING = ("ccas_nav_items", "ccas_dashboard_panels", "ccas_case_panels",
              "ccas_suggest_alternatives", "ccas_reorientation_destinations",
              "ccas_report_sections")
ROLES = ("manager", "secretary", "social_worker", "lender_agent", "referrer", "funder")
LINK = re.compile(r'href="(/t/alpha/[^"#?]*)')


def _boom(*_args, **_kwargs):
    raise RuntimeError("the partner's server is down")


@pytest.fixture
def wrecker(with_plugin, enable_plugin, tenant):
    """A plugin that raises in every decorating hook, enabled beside the lender."""
    enable_plugin(tenant, "credit_municipal")
    enable_plugin(tenant, "caf")
    with_plugin(probe_plugin("wrecker", **{name: _boom for name in DECORATING}))


@pytest.fixture
def world(session, tenant, in_tenant, users, enable_plugin):
    """A case in evaluation (suggestions, panels, destinations on its page)."""
    enable_plugin(tenant, "credit_municipal")
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Léa", "Martin", date(1990, 5, 17), children_ages=[4, 9]))
        case = cases.open_case(session, person, "household_equipment", "900",
                               actor=users["secretary"], tenant=tenant)
        for target in ("ficp_pending",):
            workflow.apply_transition(session, case, TransitionRequest(target, case.version),
                                      users["secretary"])
        case.state = State.evaluation
        session.commit()
        return case


def _crawl(client, start: str, limit: int = 60) -> dict[str, int]:
    """GET every page of the tenant reachable by links from ``start``."""
    seen: dict[str, int] = {}
    queue = [start]
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen or "/logout" in path:
            continue
        response = client.get(path)
        seen[path] = response.status_code
        if response.mimetype == "text/html":
            for link in LINK.findall(response.get_data(as_text=True)):
                link = urlsplit(link).path
                if link not in seen and not link.endswith((".pdf", ".ics", ".csv", ".xlsx")):
                    queue.append(link)
    return seen


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_every_role_answers_with_a_plugin_failing_everywhere(
        role, wrecker, world, client, login, users, caplog):
    login(client, users[role])
    pages = _crawl(client, "/t/alpha/")
    errors = {path: status for path, status in pages.items() if status >= 500}
    print(f"{role}: {len(pages)} pages crawled with a plugin failing in every decorating hook")
    assert errors == {}
    assert pages["/t/alpha/"] == 200 and len(pages) > 3
    assert "plugin wrecker failed in ccas_nav_items" in caplog.text
    assert "plugin wrecker failed in ccas_dashboard_panels" in caplog.text
    if role in ("manager", "secretary", "social_worker", "lender_agent"):
        assert pages[f"/t/alpha/cases/{world.id}"] == 200
        assert "plugin wrecker failed in ccas_case_panels" in caplog.text


def test_the_case_page_still_shows_the_other_plugins_blocks(wrecker, world, client, login,
                                                            users):
    login(client, users["social_worker"])
    html = client.get(f"/t/alpha/cases/{world.id}").get_data(as_text=True)
    assert "Contrôle FICP" in html  # the lender's block
    assert "Pièces à fournir" in html  # a core feature's block


def test_the_review_and_the_suggestions_leave_the_failing_plugin_out(
        wrecker, world, client, login, users, session, tenant, in_tenant, caplog):
    from core.features import suggestions
    from core.reports.yearly import build_report

    with in_tenant(tenant):
        report = build_report(session, tenant, world.intake_date.year)
        collected = suggestions.collect(world)
    assert "wrecker" not in report["sections"] and "credit_municipal" in report["sections"]
    assert collected.failed == ["wrecker"]
    assert "plugin wrecker failed in ccas_report_sections" in caplog.text
    with in_tenant(tenant):
        veto = suggestions.veto_messages(session, world)
    assert "Suggestions de l'extension WRECKER indisponibles" in " ".join(veto)


@pytest.mark.parametrize("hook", ["ccas_case_checks", "ccas_case_before_transition",
                                  "ccas_case_after_transition"])
def test_a_raising_deciding_hook_refuses_the_move_and_writes_nothing(
        hook, with_plugin, world, users, session, tenant, in_tenant, caplog):
    with_plugin(probe_plugin("checker", **{hook: _boom}))
    with in_tenant(tenant):
        case = world
        case.state = State.documents_requested
        session.commit()
        before = session.scalar(select(func.count()).select_from(CaseTransition))
        with pytest.raises(TransitionError) as err:
            workflow.apply_transition(session, case, TransitionRequest(
                "evaluation", case.version), users["social_worker"])
        session.rollback()
        assert session.scalar(select(func.count()).select_from(CaseTransition)) == before
        assert str(session.get(type(case), (tenant.id, case.id)).state) == "documents_requested"
    assert "CHECKER" in err.value.message and "erreur" in err.value.message
    assert f"plugin checker failed in {hook}" in caplog.text


def _plugin(name: str, **hooks):
    module = types.ModuleType(name)
    module.ccas_plugin_info = hookimpl(lambda: PluginInfo(name, name.upper(), "1"))
    for hook, fn in hooks.items():
        setattr(module, hook, hookimpl(fn))
    return module


def test_a_plugin_whose_blueprints_fail_is_refused_and_the_platform_starts(app_config,
                                                                           caplog):
    from core.app import create_app

    bad = Blueprint("bad", __name__)

    @bad.route("/x")
    def x():  # pragma: no cover - never served
        return "x"

    registry = plugins.PluginRegistry()
    registry.register(_plugin("badpages", ccas_blueprints=lambda: [bad, bad]))
    registry.register(_plugin("fine"))
    application = create_app(app_config, registry=registry)
    assert "badpages" in registry.refused() and "fine" in registry.usable()
    assert "plugin badpages refused: blueprints not registered" in caplog.text
    with application.app_context():
        body = application.test_client().get("/readyz")
    assert body.status_code == 200
    assert "badpages" in body.get_json()["plugins_refused"]


def test_a_plugin_whose_workflow_does_not_fit_is_refused():
    registry = plugins.PluginRegistry()
    part = CaseWorkflow(states=(CaseState("intake", "Doublon"),))
    loaded = registry.register(_plugin("twice", ccas_case_workflow=lambda: part))
    assert not loaded.usable and "already declared by core" in loaded.refused
    part = CaseWorkflow(transitions=(Transition("go", "intake", "nowhere",
                                                frozenset({"manager"}), "Aller"),))
    loaded = registry.register(_plugin("nowhere", ccas_case_workflow=lambda: part))
    assert not loaded.usable and "unknown state 'nowhere'" in loaded.refused
    assert registry.workflow_for(frozenset({"twice", "nowhere"})).states.keys() == (
        registry.workflow_for(frozenset()).states.keys())


def test_the_plugin_list_says_why_a_plugin_is_refused(ccas, monkeypatch):
    original = plugins.PluginRegistry.load_entry_points

    def with_a_broken_one(self):
        original(self)
        self.register(_plugin("typo", ccas_nav_itemz=lambda: []))

    monkeypatch.setattr(plugins.PluginRegistry, "load_entry_points", with_a_broken_one)
    result = ccas("plugins", "list")
    assert result.exit_code == 0
    assert re.search(r"typo\tREFUSÉE\t.*ccas_nav_itemz", result.output)
    assert "credit_municipal\t" in result.output


def test_the_test_suite_fails_loudly_on_a_refused_installed_plugin():
    """The platform starts without a refused plugin; its test suite does not: the ``app``
    fixture fails every test, naming the plugin and the reason."""
    from core.testing.pytest_plugin import check_installed_plugins

    registry = plugins.PluginRegistry()
    registry.register(_plugin("typo", ccas_nav_itemz=lambda: []))
    with pytest.raises(pytest.fail.Exception, match="typo.*ccas_nav_itemz"):
        check_installed_plugins(registry)


def test_a_menu_entry_naming_an_unknown_page_is_left_out(with_plugin, client, login, users,
                                                         caplog):
    from core.plugin_api import NavItem

    with_plugin(probe_plugin("lost", ccas_nav_items=lambda: [
        NavItem("Perdu", "lost.nowhere"), NavItem("Dossiers bis", "cases.case_list")]))
    login(client, users["manager"])
    page = client.get("/t/alpha/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Perdu" not in html and "Dossiers bis" in html
    assert "menu entry 'Perdu' names an unknown page 'lost.nowhere'" in caplog.text
