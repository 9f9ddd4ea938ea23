"""Journeys of the accompaniment: a follow-up recorded by the social worker, a budget
workshop from theme to invitation, the manager's time split (each page checked by axe)."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import expect

from core import cases, clock, workflow
from core.models import CaseTransition, State
from core.testing.pytest_plugin import TEST_PASSWORD
from core.workflow import TransitionRequest


def signed_case(session, tenant, in_tenant, users, email=None):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Léa", "Martin", date(1990, 5, 4), email=email))
        c = cases.open_case(session, person, "mobility", "1500", actor=users["secretary"])
        session.add(CaseTransition(case_id=c.id, from_state="submitted_to_lender",
                                   to_state="granted", data={"months": 12}))
        c.state = State.signing
        c.social_worker_id = users["social_worker"].id
        session.flush()
        workflow.apply_transition(
            session, c, TransitionRequest(target="withdrawal_period", version=c.version),
            users["social_worker"], at=clock.now() - timedelta(days=75))
        session.commit()
        return c


def test_social_worker_records_an_overdue_follow_up(browser, users, session, tenant,
                                                    in_tenant):
    case = signed_case(session, tenant, in_tenant, users)
    page = browser.page
    browser.login(users["social_worker"].email, TEST_PASSWORD, "alpha")
    expect(page.get_by_role("table", name="Suivis en retard")).to_contain_text(case.reference)
    browser.check("accompagnement-tableau-de-bord")
    page.get_by_role("link", name=case.reference).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Accompagnement")
    browser.check("accompagnement-dossier")
    page.get_by_role("button", name="Enregistrer le suivi").click()
    expect(page.get_by_role("alert")).to_contain_text("Choisissez le moyen du contact")
    browser.check()
    page.get_by_label("Téléphone").check()
    page.get_by_label("Durée (minutes)").fill("20")
    page.get_by_label("Note partagée (l'équipe du CCAS)").fill("Premier mois sans souci.")
    page.get_by_role("button", name="Enregistrer le suivi").click()
    expect(page.get_by_role("status")).to_contain_text("Suivi enregistré.")
    expect(page.get_by_role("table", name="Suivis prévus et réalisés")).to_contain_text(
        "Premier mois sans souci.")
    browser.check()


def test_a_budget_workshop_from_theme_to_invitation(browser, users, session, tenant,
                                                    in_tenant):
    signed_case(session, tenant, in_tenant, users, email="lea@example.org")
    page = browser.page
    browser.login(users["social_worker"].email, TEST_PASSWORD, "alpha")
    browser.goto("/t/alpha/ateliers/")
    page.get_by_label("Titre").fill("Tenir son budget")
    page.get_by_role("button", name="Créer le thème").click()
    expect(page.get_by_role("status")).to_contain_text("Thème créé.")
    day = (clock.now() + timedelta(days=15)).date()
    page.get_by_label("Date (jj/mm/aaaa)").fill(day.isoformat())
    page.get_by_label("Lieu").fill("CCAS, salle 2")
    page.get_by_label("Nombre de places").fill("8")
    page.get_by_role("button", name="Créer la séance").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tenir son budget")
    browser.check("atelier-seance")
    page.get_by_label("Léa Martin", exact=False).first.check()
    page.get_by_role("button", name="Envoyer les invitations").click()
    expect(page.get_by_role("status")).to_contain_text("Invitations envoyées : 1.")
    expect(page.get_by_role("table", name="Personnes invitées ou inscrites")).to_contain_text(
        "Invitée")
    browser.check()


def test_the_manager_reads_the_time_split(browser, users):
    page = browser.page
    browser.login(users["manager"].email, TEST_PASSWORD, "alpha")
    browser.goto("/t/alpha/temps/")
    page.get_by_label("Durée (minutes)").fill("45")
    page.get_by_label("Instruction").check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("Temps enregistré.")
    browser.goto("/t/alpha/temps/rapport")
    expect(page.get_by_role("table", name="Temps par étape")).to_contain_text("0 h 45")
    browser.check("temps-repartition")
