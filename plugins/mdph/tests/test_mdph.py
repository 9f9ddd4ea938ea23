"""The MDPH plugin: a project naming a disability need is offered the PCH first, the
rule naming the words found."""

from __future__ import annotations

from datetime import date

from core import cases
from core.plugin_api import hooks
from core.testing import answer_of
from plugins.mdph import mdph_suggestion

KEYWORDS = ["fauteuil", "véhicule adapté", "handicap"]


def test_the_rule_names_the_words_of_the_project():
    found = mdph_suggestion("Achat d'un véhicule adapté au fauteuil de mon fils.", KEYWORDS)
    assert found.code == "mdph_pch"
    assert "« fauteuil »" in found.why and "« véhicule adapté »" in found.why
    assert mdph_suggestion("Voiture pour aller travailler.", KEYWORDS) is None


def test_a_disability_need_is_offered_the_pch(tenant, users, session, enable_plugin,
                                              in_tenant):
    enable_plugin(tenant, "mdph")
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Marc", "Petit",
                                                               date(1970, 2, 2)))
        case = cases.open_case(session, person, "health", "1800", actor=users["secretary"],
                               project="Appareil auditif non remboursé, handicap reconnu.")
        [suggestion] = answer_of("mdph", hooks().ccas_suggest_alternatives, case=case)
        [destination] = answer_of("mdph", hooks().ccas_reorientation_destinations)
    assert suggestion.label.startswith("Prestation de compensation")
    assert destination.code == "mdph"
