"""Plugin settings forms built from each plugin's settings schema
(``core.plugins.settings_form``): widgets per field, French numbers, no JSON anywhere, and
a round trip of every shipped plugin's form. CSRF protection on."""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from marshmallow import Schema, fields
from werkzeug.datastructures import MultiDict

from core import plugins
from core.plugin_api import settings_fields as f
from core.plugins import settings_form
from plugins.caf.settings import DEFAULT_RULES

from .test_administration import Forms

SHIPPED = ("credit_municipal", "caf", "adie", "secours_catholique", "faj", "mdph", "city_aids")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def manager(client, users):
    forms = Forms(client)
    forms.login(users["manager"])
    return forms


class _Submitted(HTMLParser):
    """What a browser submits for the page's settings form: text inputs, checked boxes
    and radios, text areas, selected options (``MultiDict``)."""

    def __init__(self):
        super().__init__()
        self.data = MultiDict()
        self.in_form = False
        self._textarea = None
        self._select = None
        self.textareas: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("method") == "post" and not a.get("action"):
            self.in_form = True
        if not self.in_form:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.data.add(a["name"], a.get("value", "on"))
            elif kind != "submit":
                self.data.add(a["name"], a.get("value") or "")
        elif tag == "textarea":
            self._textarea = [a["name"], ""]
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.data.add(self._select, a.get("value", ""))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea:
            self.data.add(*self._textarea)
            self.textareas.append(self._textarea[1])
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self.in_form = False


def submitted(page: str) -> _Submitted:
    parser = _Submitted()
    parser.feed(page)
    return parser


def stored(session, in_tenant, tenant, name):
    with in_tenant(tenant):
        session.expire_all()
        return plugins.registry().validate_settings(name, _state(session, name))


def _state(session, name):
    from sqlalchemy import select

    from core.models import PluginState

    state = session.scalar(select(PluginState).where(PluginState.plugin_name == name))
    return state.settings if state else {}


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_plugins_form_round_trips_without_json(manager, session, in_tenant,
                                                            tenant, name):
    defaults = stored(session, in_tenant, tenant, name)
    page = manager.get(f"/t/alpha/admin/plugins/{name}").get_data(as_text=True)
    form = submitted(page)
    for text in form.textareas:  # words, one per line: never a JSON document
        assert not text.strip().startswith(("[", "{")), text
    assert "JSON" not in page and "Toulouse" not in page
    assert not re.search(r'value="\d+\.\d+"', page), "a decimal point in a number field"
    r = manager.post(f"/t/alpha/admin/plugins/{name}", form.data.to_dict(flat=False))
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    assert stored(session, in_tenant, tenant, name) == defaults


def test_lender_form_has_the_widgets_its_fields_call_for(manager):
    page = manager.get("/t/alpha/admin/plugins/credit_municipal").get_data(as_text=True)
    assert '<label for="annual_rate">Taux annuel fixe</label>' in page
    assert 'value="3,04"' in page and 'id="annual_rate-unite">%</span>' in page
    assert 'value="3 000,00"' in page and 'id="amount_max-unite">€</span>' in page
    assert 'id="max_months-unite">mois</span>' in page
    assert 'type="radio" value="annuity" checked' in page
    assert "Échéances constantes" in page
    assert 'type="checkbox" value="mobility" checked' in page
    assert '<label for="allowed_purposes-mobility">Mobilité</label>' in page
    assert "<legend>Objets finançables</legend>" in page


def test_lender_settings_accept_french_numbers_and_checkboxes(manager, session, in_tenant,
                                                              tenant):
    url = "/t/alpha/admin/plugins/credit_municipal"
    form = submitted(manager.get(url).get_data(as_text=True)).data
    form.setlist("annual_rate", ["2,5"])
    form.setlist("amount_min", ["350,50"])
    form.setlist("amount_max", ["2 500"])
    form.setlist("schedule_method", ["linear"])
    form.setlist("allowed_purposes", ["mobility", "health"])
    r = manager.post(url, form.to_dict(flat=False))
    assert r.status_code == 302, r.get_data(as_text=True)[:1500]
    with in_tenant(tenant):
        settings = plugins.plugin_settings("credit_municipal")
    assert settings["annual_rate"] == Decimal("2.50")
    assert settings["amount_min"] == Decimal("350.50")
    assert settings["amount_max"] == Decimal("2500.00")
    assert settings["schedule_method"] == "linear"
    assert settings["allowed_purposes"] == ["mobility", "health"]
    page = manager.get(url).get_data(as_text=True)
    assert 'value="2,50"' in page and 'value="350,50"' in page


@pytest.mark.parametrize(("field", "value", "message", "shown"), [
    ("amount_max", "2000000", "Doit être entre 0,00\u00a0€ et 1\u202f000\u202f000,00\u00a0€.",
     "2 000 000,00"),
    ("amount_min", "1e6", "Montant invalide", "1e6"),
    ("annual_rate", "45", "Doit être un pourcentage entre 0\u00a0% et 30\u00a0%.", "45,00"),
    ("max_months", "999", "Doit être entre 1\u00a0mois et 120\u00a0mois.", "999"),
    ("max_months", "x", "Nombre entier attendu", "x"),
    ("annual_rate", "NaN", "Pourcentage invalide", "NaN"),
])
def test_a_bad_number_names_its_rule_in_french_and_keeps_what_was_typed(
        manager, session, in_tenant, tenant, field, value, message, shown):
    url = "/t/alpha/admin/plugins/credit_municipal"
    form = submitted(manager.get(url).get_data(as_text=True)).data
    form.setlist(field, [value])
    r = manager.post(url, form.to_dict(flat=False))
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    from html import unescape

    assert message in unescape(body)
    assert f'id="{field}-erreur"' in body and 'aria-invalid="true"' in body
    assert f'value="{shown}"' in body
    with in_tenant(tenant):
        assert _state(session, "credit_municipal") == {}  # nothing stored


def test_caf_aid_rules_are_rows_one_added_one_removed(manager, session, in_tenant, tenant):
    url = "/t/alpha/admin/plugins/caf"
    page = manager.get(url).get_data(as_text=True)
    assert "<legend>Aides à proposer</legend>" in page
    assert "<legend>Ajouter : Aide</legend>" in page and "Supprimer cette ligne" in page
    form = submitted(page).data
    blank = len(DEFAULT_RULES)  # the empty row that adds one
    form.add("aid_rules-0-remove", "on")
    form.setlist(f"aid_rules-{blank}-code", ["aide_mobilite"])
    form.setlist(f"aid_rules-{blank}-label", ["Aide à la mobilité de la CAF"])
    form.setlist(f"aid_rules-{blank}-purposes", ["mobility"])
    form.setlist(f"aid_rules-{blank}-max_family_quotient", ["700"])
    r = manager.post(url, form.to_dict(flat=False))
    assert r.status_code == 302, r.get_data(as_text=True)[:1500]
    with in_tenant(tenant):
        rules = plugins.plugin_settings("caf")["aid_rules"]
    assert [r["code"] for r in rules] == [r["code"] for r in DEFAULT_RULES[1:]] + [
        "aide_mobilite"]
    assert rules[-1]["max_family_quotient"] == 700 and rules[-1]["families_only"] is False


def test_caf_row_error_is_shown_on_the_rows_field(manager):
    url = "/t/alpha/admin/plugins/caf"
    form = submitted(manager.get(url).get_data(as_text=True)).data
    blank = len(DEFAULT_RULES)  # the empty row that adds one
    form.setlist(f"aid_rules-{blank}-label", ["Une aide sans code"])
    r = manager.post(url, form.to_dict(flat=False))
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert (f'id="aid_rules-{blank}-code-erreur"' in body
            and f'href="#aid_rules-{blank}-code"' in body)


def test_adie_keywords_are_one_per_line(manager, session, in_tenant, tenant):
    url = "/t/alpha/admin/plugins/adie"
    form = submitted(manager.get(url).get_data(as_text=True)).data
    form.setlist("business_keywords", ["entreprise\r\n  artisan \r\n\r\nfood truck"])
    assert manager.post(url, form.to_dict(flat=False)).status_code == 302
    with in_tenant(tenant):
        assert plugins.plugin_settings("adie")["business_keywords"] == [
            "entreprise", "artisan", "food truck"]


# -- the helpers, for third-party plugins -----------------------------------------------------


class ThirdParty(Schema):
    ceiling = f.money("1500", "Plafond")
    share = f.percent("12.5", "Part")
    months = f.whole(12, "Durée", 1, 60, unit="mois")
    channel = f.choice("mail", "Canal", {"mail": "Courrier", "email": "Courriel",
                                         "phone": "Téléphone", "sms": "SMS",
                                         "visit": "Visite"})
    themes = f.purposes(("housing",), "Objets")
    tags = f.words(("a",), "Mots")
    active = fields.Boolean(load_default=True, metadata={"label": "Actif"})


def test_third_party_schema_gets_widgets_and_parses_french_input(app):
    widgets = {w.key: w for w in settings_form.describe(ThirdParty, {})}
    assert {k: w.kind for k, w in widgets.items()} == {
        "ceiling": "money", "share": "percent", "months": "integer", "channel": "select",
        "themes": "choices", "tags": "words", "active": "checkbox"}
    assert widgets["ceiling"].value == "1 500,00" and widgets["share"].value == "12,50"
    assert widgets["channel"].choices[1] == ("email", "Courriel")
    data, errors = settings_form.parse(ThirdParty, MultiDict([
        ("ceiling", "1 200,5 €"), ("share", "3,04"), ("months", "24"), ("channel", "sms"),
        ("themes", "housing"), ("themes", "debts"), ("tags", "x\ny"), ("active", "")]))
    assert errors == {}
    loaded = ThirdParty().load(data)
    assert loaded["ceiling"] == Decimal("1200.50") and loaded["share"] == Decimal("3.04")
    assert loaded["themes"] == ["housing", "debts"] and loaded["active"] is False


@pytest.mark.parametrize("text", ["1e6", "NaN", "１２", "1,2,3", "", "12 34", "-"])
def test_parse_number_refuses_what_is_not_written_in_figures(text):
    assert settings_form.parse_number(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("300,00", "300.00"), ("3,04", "3.04"), ("1 234,5", "1234.5"), ("1\u202f234", "1234"),
    ("12.5", "12.5"), ("-5", "-5"), ("300 €", "300"), ("3,04 %", "3.04")])
def test_parse_number_reads_french_numbers(text, expected):
    assert settings_form.parse_number(text) == expected
