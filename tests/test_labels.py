"""One label registry: the core's vocabularies, the case states, what plugins add
(``ccas_labels``), the Jinja filter."""

from __future__ import annotations

import logging

import pytest
from flask import render_template_string

from core import labels, plugins
from core.plugin_api import PluginInfo, hookimpl

pytestmark = pytest.mark.usefixtures("app")


def test_the_cores_vocabularies_label_their_codes():
    assert labels.label("purpose", "mobility") == "Mobilité"
    assert labels.label("employment", "cdi") == labels.vocabulary("employment")["cdi"]
    assert labels.label("referral_status", "declined") == "Déclinée"
    assert labels.label("role", "lender_agent") == "Agent du prêteur"
    assert labels.label("organisation_kind", "aid_fund") == "Organisme d'aide"


def test_case_states_include_the_plugins_states():
    assert labels.label("case_state", "reoriented") == "Réorienté"
    # the lender plugin's states (installed, whatever a tenant enabled)
    assert labels.label("case_state", "ficp_pending") != "ficp_pending"


def test_empty_and_unknown_codes(caplog):
    assert labels.label("purpose", None) == "" and labels.label("purpose", "") == ""
    assert labels.label("purpose", "yacht", default="Autre objet") == "Autre objet"
    with caplog.at_level(logging.WARNING, logger="core.labels"):
        assert labels.label("purpose", "submarine") == "submarine"
    assert "no label for purpose 'submarine'" in caplog.text


class _Udaf:
    @hookimpl
    def ccas_plugin_info(self):
        return PluginInfo(name="udaf_labels", label="UDAF", version="1.0",
                          core_requires=">=0.2")

    @hookimpl
    def ccas_labels(self):
        return {"udaf_measure": {"curatelle": "Curatelle renforcée"},
                "purpose": {"mobility": "Voiture", "funeral": "Obsèques"}}


@pytest.fixture
def udaf():
    registry = plugins.registry()
    registry.register(_Udaf(), "udaf_labels")
    yield
    registry.unregister("udaf_labels")


def test_a_plugin_adds_a_vocabulary_and_codes_but_relabels_nothing(udaf, caplog):
    with caplog.at_level(logging.WARNING, logger="core.labels"):
        assert labels.label("udaf_measure", "curatelle") == "Curatelle renforcée"
        assert labels.label("purpose", "funeral") == "Obsèques"
        assert labels.label("purpose", "mobility") == "Mobilité"
    assert "udaf_labels: label of purpose 'mobility' already given" in caplog.text


def test_the_registry_forgets_a_removed_plugins_labels(udaf):
    assert labels.label("udaf_measure", "curatelle") == "Curatelle renforcée"
    plugins.registry().unregister("udaf_labels")
    assert labels.label("udaf_measure", "curatelle", default="?") == "?"


def test_templates_label_codes(app):
    with app.test_request_context():
        html = render_template_string('{{ "housing"|label("purpose") }}')
    assert html == "Logement"


@pytest.mark.parametrize("stored, plain, journal", [
    ("user:as@ccas.test", "as@ccas.test", "as@ccas.test"),
    ("token:7f3c:agent@cm.test", "agent@cm.test", "agent@cm.test, par jeton d'API"),
    ("operator:ops@platform.test", "ops@platform.test",
     "ops@platform.test, par opérateur de la plateforme"),
    ("cli", "Administration (ligne de commande)", "Administration (ligne de commande)"),
    ("anonymous", "Personne non connectée", "Personne non connectée"),
    ("connector:ficp", "connector:ficp", "connector:ficp"),  # another shape: as stored
    ("user:", "user:", "user:"),
    ("", "", ""),
    (None, "", ""),
])
def test_who_acted_reads_as_an_address_or_in_french(stored, plain, journal):
    assert labels.actor(stored) == plain
    assert labels.actor(stored, how=True) == journal
