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


def test_the_synthesis_names_the_need_when_the_project_does_not():
    found = mdph_suggestion("Voiture pour aller travailler.", KEYWORDS + ["aah"],
                            "Ressources : AAH et pension. Handicap reconnu en 2019.")
    assert found.why.startswith("La synthèse de la situation évoque un besoin lié au "
                                "handicap (« handicap », « aah »)")
    assert "2019" not in found.why and "pension" not in found.why  # the settings' words only
    both = mdph_suggestion("Fauteuil électrique.", KEYWORDS, "Handicap moteur.")
    assert both.why.startswith("Le projet évoque un besoin lié au handicap (« fauteuil ») ; "
                               "la synthèse de la situation évoque un besoin lié au "
                               "handicap (« handicap »)")


def test_a_disability_written_in_the_synthesis_is_offered_the_pch(
        tenant, users, session, enable_plugin, in_tenant):
    from core.cases import synthesis
    from core.plugin_api import State

    enable_plugin(tenant, "mdph")
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Marc", "Petit",
                                                               date(1970, 2, 2)))
        case = cases.open_case(session, person, "mobility", "1800", actor=users["secretary"],
                               project="Voiture pour le travail.")
        assert answer_of("mdph", hooks().ccas_suggest_alternatives, case=case) is None
        case.state = State.evaluation
        synthesis.write(session, case, {"resources": "Perçoit l'AAH (handicap reconnu)."},
                        users["social_worker"])
        [suggestion] = answer_of("mdph", hooks().ccas_suggest_alternatives, case=case)
    assert suggestion.why.startswith("La synthèse de la situation évoque")
