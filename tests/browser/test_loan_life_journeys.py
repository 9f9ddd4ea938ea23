"""The lender agent after the first missed payment, in a real browser: delinquency on the
dashboard, rescheduling with the social worker's opinion (a refused form first), the rider;
then a default declared, written off and a recovery returned to the guarantors; the
portfolio over time and the declarations. Every page checked by axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.testing.pytest_plugin import TEST_PASSWORD
from plugins.credit_municipal.tests.loan_helpers import disbursed_loan

BASE = "/t/alpha/p/credit_municipal"


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin, monkeypatch):
    enable_plugin(tenant, "credit_municipal")
    from core.features import accompaniment

    # the final accompaniment summary (another feature's check) is recorded
    monkeypatch.setattr(accompaniment, "has_final_summary", lambda session, case: True)


def test_lender_agent_reschedules_a_late_loan(browser, users, session, tenant, in_tenant):
    loan = disbursed_loan(session, tenant, in_tenant, users, amount="3000", months=36,
                          disbursed_days_ago=100)
    page = browser.page
    browser.login(users["lender_agent"].email, TEST_PASSWORD, "alpha")
    browser.check("preteur-tableau-de-bord-retards")
    expect(page.get_by_role("rowheader", name="61 à 90 jours")).to_be_visible()
    page.get_by_role("link", name="Voir les prêts en retard").click()
    browser.check("preteur-prets-en-retard")
    page.get_by_role("link", name=loan.reference).click()
    browser.check("preteur-pret-en-retard")
    # A holiday and a duration beyond the product's maximum: refused, the rule named.
    page.get_by_label("Report d'échéances").select_option("3")
    page.get_by_label("Nouvelle durée d'amortissement (mois)").fill("36")
    page.get_by_label("Favorable avec réserves").check()
    page.get_by_role("button", name="Enregistrer le réaménagement").click()
    expect(page.get_by_role("alert")).to_contain_text("dépasse la durée maximale")
    browser.check("preteur-reamenagement-refuse")
    page.get_by_label("Report d'échéances").select_option("3")
    page.get_by_label("Nouvelle durée d'amortissement (mois)").fill("33")
    page.get_by_label("Favorable", exact=True).check()
    page.get_by_label("Motifs de l'avis (facultatif)").fill("Reprise d'emploi en mars.")
    page.get_by_role("button", name="Enregistrer le réaménagement").click()
    expect(page.get_by_role("status")).to_contain_text("Réaménagement enregistré")
    browser.check("preteur-pret-reamenage")
    expect(page.get_by_role("link", name="Avenant à signer (PDF)")).to_be_visible()
    page.get_by_text("Échéancier remplacé").click()
    expect(page.get_by_role("table", name="Échéancier version 1")).to_be_visible()
    browser.check()


def test_lender_agent_writes_off_a_defaulted_loan_and_records_a_recovery(
        browser, users, session, tenant, in_tenant):
    loan = disbursed_loan(session, tenant, in_tenant, users, amount="2000", months=24,
                          disbursed_days_ago=200)
    page = browser.page
    browser.login(users["lender_agent"].email, TEST_PASSWORD, "alpha")
    browser.goto(f"{BASE}/loans/{loan.id}")
    page.get_by_role("button", name="Déclarer la défaillance").click()
    expect(page.get_by_role("status")).to_contain_text("Défaillance déclarée")
    browser.check("preteur-defaillance")
    expect(page.get_by_role("table", name="Répartition de la perte (2 000,00 €)")).to_be_visible()
    page.get_by_role("button", name="Passer le prêt en perte").click()
    expect(page.get_by_role("status")).to_contain_text("passé en perte")
    browser.check("preteur-passage-en-perte")
    page.get_by_label("Montant recouvré (€)").fill("3000")
    page.get_by_role("button", name="Enregistrer le recouvrement").click()
    expect(page.get_by_role("alert")).to_contain_text("ce qui reste à recouvrer")
    browser.check()
    page.get_by_label("Montant recouvré (€)").fill("400")
    page.get_by_role("button", name="Enregistrer le recouvrement").click()
    expect(page.get_by_role("status")).to_contain_text("Recouvrement enregistré")
    browser.check("preteur-recouvrement")
    browser.goto(f"{BASE}/portfolio")
    expect(page.get_by_role("img", name="Taux de défaillance du mois (%)")).to_be_visible()
    browser.goto(f"{BASE}/declarations")
    expect(page.get_by_role("link", name="Télécharger (PDF)").first).to_be_visible()
