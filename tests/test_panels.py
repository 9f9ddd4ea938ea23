"""A plugin's block given as a template with its values (``Panel(template=..., context=...)``)
is rendered with the page's own context, under its title: the same HTML as the plugin's
``render_template``; a template that fails leaves the block out and the page answers."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from flask import render_template
from flask_login import login_user

from core import cases
from core.plugin_api import Panel
from core.testing.pytest_plugin import probe_plugin

FICP_BLOCK = "credit_municipal/ficp_case_panel.html"


@pytest.fixture
def case(session, tenant, in_tenant, users):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Léa", "Martin", date(1990, 5, 17)))
        case = cases.open_case(session, person, "household_equipment", "900",
                               actor=users["secretary"], tenant=tenant)
        session.commit()
        return case


def _values(case):
    return {"check": None, "labels": {}, "case": case}


def test_a_block_given_with_its_values_is_rendered_as_render_template_renders_it(
        app, with_plugin, case, client, login, users, tenant, in_tenant):
    with_plugin(probe_plugin("probe_block", ccas_case_panels=lambda case: [
        Panel(title="Bloc essai", template=FICP_BLOCK, context=_values(case), order=99)]))
    login(client, users["social_worker"])
    response = client.get(f"/t/alpha/cases/{case.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    with app.test_request_context(f"/t/alpha/cases/{case.id}"), in_tenant(tenant):
        login_user(users["social_worker"])
        expected = render_template(FICP_BLOCK, **_values(case))
    assert "En attente du résultat du prêteur." in expected  # the page's `_` and filters
    heading = html.index(">Bloc essai</h2>")
    assert html[heading:].split("</h2>", 1)[1].lstrip().startswith(expected.strip())


def test_a_block_whose_template_fails_is_left_out_and_the_page_answers(
        with_plugin, case, client, login, users, caplog):
    with_plugin(probe_plugin("probe_broken_block", ccas_case_panels=lambda: [
        Panel(title="Bloc cassé", template="probe/missing.html", context={})]))
    login(client, users["social_worker"])
    with caplog.at_level(logging.ERROR):
        response = client.get(f"/t/alpha/cases/{case.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Bloc cassé" not in html
    assert "Pièces à fournir" in html  # the other blocks are there
    assert "failed to render" in caplog.text and "probe/missing.html" in caplog.text
