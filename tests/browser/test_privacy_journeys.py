"""Journey of the manager's RGPD pages for a person known only through partners'
referrals: found by birth date, their page read, a rectification refused then made, and
the erasure confirmed (each page checked by axe)."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from core.models import Referral
from core.privacy.registry import ANONYMISED
from core.testing.pytest_plugin import TEST_PASSWORD
from tests.test_privacy_pages import refer_only


def test_manager_answers_a_person_only_ever_referred(browser, users, session, tenant,
                                                     in_tenant, make_user, enable_plugin):
    (refs, _texts), _other = refer_only(session, tenant, users, make_user, enable_plugin,
                                        in_tenant)
    page = browser.page
    browser.login(users["manager"].email, TEST_PASSWORD, "alpha")
    browser.menu("Administration", "Données personnelles (RGPD)")
    browser.check("rgpd-recherche")
    page.get_by_label("date de naissance", exact=False).fill("04/10/1987")
    page.get_by_role("button", name="Rechercher").click()
    table = page.get_by_role("table", name="Personnes connues seulement par des orientations",
                             exact=False)
    expect(table).to_contain_text("BrisemichePRV AnatoliePRV")
    browser.check("rgpd-recherche-orientations")
    table.get_by_role("link", name="BrisemichePRV AnatoliePRV").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Données personnelles de AnatoliePRV BrisemichePRV")
    expect(page.get_by_role("table", name="Orientations de la personne", exact=False)
           .get_by_role("row")).to_have_count(4)
    browser.check("rgpd-orientations")

    page.get_by_label("Courriel").fill("pas-une-adresse")
    page.get_by_role("button", name="Enregistrer la rectification").click()
    expect(page.get_by_role("alert")).to_contain_text("Courriel : adresse invalide.")
    expect(page.get_by_label("Courriel")).to_have_attribute("aria-invalid", "true")
    browser.check()
    page.get_by_label("Courriel").fill("anatolie@exemple.test")
    page.get_by_role("button", name="Enregistrer la rectification").click()
    expect(page.get_by_role("status")).to_contain_text("Orientation rectifiée.")

    page.get_by_label("Je confirme l'effacement définitif", exact=False).check()
    page.get_by_role("button", name="Effacer (anonymiser)").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Les données personnelles ont été effacées (orientations anonymisées : 3).")
    expect(page.get_by_role("heading", level=1)).to_contain_text("(anonymisée)")
    browser.check("rgpd-orientations-anonymisees")
    with in_tenant(tenant):
        session.expire_all()
        names = session.scalars(select(Referral.last_name).where(
            Referral.id.in_([r.id for r in refs]))).all()
    assert names == [ANONYMISED] * 3
