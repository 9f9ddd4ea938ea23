"""Journeys of a case, as the users do them in a real browser: intake, FICP check,
documents and appointment, evaluation to submission, decision, signing and disbursement.

Each journey starts from the state the previous one leaves (seeded through the service
layer, as the other tests do) and is driven by labels and roles; every page is checked by
axe-core (``tests/browser/conftest.py``)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from core import cases, clock, workflow
from core.models import Case, Person, State
from core.testing.pytest_plugin import TEST_PASSWORD
from core.workflow import TransitionRequest


@pytest.fixture(autouse=True)
def the_lender_checks_the_ficp_first(tenant, enable_plugin):
    """The scheme as the seed runs it: the Crédit Municipal's FICP check comes first."""
    enable_plugin(tenant, "credit_municipal")


def lender_agent(tenant, make_user, enable_plugin):
    enable_plugin(tenant, "credit_municipal")
    return make_user(tenant, "lender_agent", org="Crédit Municipal", org_kind="lender")


def case_in(session, tenant, in_tenant, actor, *targets, purpose="mobility", amount="1500",
            children=(), project="", worker=None, ficp_clear=False):
    """A case opened by ``actor`` and moved through ``targets`` with the real workflow
    (the FICP result, when asked, recorded through the plugin's service)."""
    from plugins.credit_municipal import ficp

    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Léa", "Martin", date(1990, 5, 17), phone="06 12 34 56 78",
            children_ages=list(children)))
        case = cases.open_case(session, person, purpose, amount, actor=actor, project=project,
                               tenant=tenant)
        if worker is not None:
            case.social_worker_id = worker.id
        for target in targets:
            workflow.apply_transition(session, case, TransitionRequest(target, case.version),
                                      actor)
            if target == "ficp_pending" and ficp_clear:
                ficp.record_result(session, case, "clear", clock.today(), actor)
        session.commit()
        return case


def state_of(session, tenant, in_tenant, case_id) -> State:
    session.expire_all()
    with in_tenant(tenant):
        return State(session.scalar(select(Case.state).where(Case.id == case_id)))


def test_secretary_takes_a_phone_intake_and_sends_it_to_the_ficp_check(
        browser, users, session, tenant, in_tenant):
    page = browser.page
    browser.login(users["secretary"].email, TEST_PASSWORD, "alpha")
    page.get_by_role("link", name="Nouvelle fiche recueil").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle fiche recueil")
    browser.check("fiche-recueil")
    # Sent empty: the errors are announced and tied to their fields.
    page.get_by_role("button", name="Enregistrer et envoyer au contrôle FICP").click()
    expect(page.get_by_role("alert")).to_contain_text("Le nom est obligatoire.")
    name = page.get_by_label("Nom *", exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    assert "last_name-erreur" in name.get_attribute("aria-describedby")
    browser.check("fiche-recueil-erreurs")
    name.fill("Martin")
    page.get_by_label("Prénom *", exact=True).fill("Léa")
    page.get_by_label("Date de naissance", exact=True).fill("1990-05-17")
    page.get_by_label("Téléphone", exact=True).fill("06 12 34 56 78")
    page.get_by_label("Commune").fill("Toulouse")
    page.get_by_label("Âges des enfants").fill("4, 9")
    page.get_by_label("Situation professionnelle").select_option(label="CDD")
    page.get_by_label("Objet du prêt *").select_option(label="Mobilité")
    page.get_by_label("Montant demandé (€) *").fill("1 500")
    page.get_by_label("Description du projet").fill("Voiture d'occasion pour un CDD à Blagnac.")
    page.get_by_role("button", name="Enregistrer et envoyer au contrôle FICP").click()
    expect(page.get_by_role("status")).to_contain_text("envoyée au contrôle FICP")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Léa Martin")
    expect(page.get_by_text("État : Contrôle FICP en attente")).to_be_visible()
    browser.check("dossier-envoye-ficp")
    session.expire_all()
    with in_tenant(tenant):
        case = session.scalar(select(Case))
        assert case.state == "ficp_pending"
        assert session.scalar(select(func.count()).select_from(Person)) == 1


def test_lender_agent_clears_the_person_on_the_ficp_queue(
        browser, users, session, tenant, in_tenant, make_user, enable_plugin):
    agent = lender_agent(tenant, make_user, enable_plugin)
    case = case_in(session, tenant, in_tenant, users["secretary"], "ficp_pending")
    page = browser.page
    browser.login(agent.email, TEST_PASSWORD, "alpha")
    page.get_by_role("link", name="Contrôle FICP").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contrôle FICP")
    queue = page.get_by_role("table", name="Demandes en attente du contrôle FICP")
    expect(queue).to_contain_text(case.reference)
    expect(queue).to_contain_text("Martin")
    browser.check("preteur-controle-ficp")
    row = queue.get_by_role("row").filter(has_text=case.reference)
    row.get_by_label("Non inscrit").check()
    row.get_by_role("button", name="Enregistrer le résultat").click()
    expect(page.get_by_role("status")).to_contain_text(f"Dossier {case.reference}")
    expect(page.get_by_text("Aucune personne à contrôler.")).to_be_visible()
    expect(page.get_by_role("table", name="Vingt derniers contrôles")).to_contain_text(
        "Non inscrit")
    browser.check()


def test_secretary_records_documents_and_books_an_appointment(
        browser, users, session, tenant, in_tenant, make_user, enable_plugin):
    lender_agent(tenant, make_user, enable_plugin)
    case = case_in(session, tenant, in_tenant, users["secretary"], "ficp_pending",
                   ficp_clear=True)
    page = browser.page
    browser.login(users["secretary"].email, TEST_PASSWORD, "alpha")
    browser.goto(f"/t/alpha/cases/{case.id}")
    page.get_by_role("button", name="Demander les pièces").click()
    expect(page.get_by_role("status")).to_contain_text("Pièces demandées")
    documents = page.get_by_role("table", name=f"Liste des pièces du dossier {case.reference}")
    expect(documents).to_contain_text("Pièce d'identité en cours de validité")
    browser.check("dossier-pieces")
    identity = documents.get_by_role("row").filter(has_text="Pièce d'identité")
    identity.get_by_label("État de la pièce Pièce d'identité").select_option(label="Reçue")
    identity.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("Reçue")
    page.get_by_label("Demander une autre pièce à cette personne").fill(
        "Attestation de l'employeur")
    page.get_by_role("button", name="Ajouter la pièce").click()
    expect(page.get_by_role("status")).to_contain_text("Attestation de l'employeur")
    # The appointment with the social worker.
    day = clock.today() + timedelta(days=7)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    page.get_by_label("Travailleur social", exact=True).select_option(
        label=users["social_worker"].full_name)
    page.get_by_label("Date", exact=True).fill(day.isoformat())
    page.get_by_label("Heure").fill("10:00")
    page.get_by_label("Lieu (obligatoire sur place)").fill("CCAS, bureau 3")
    page.get_by_role("button", name="Fixer le rendez-vous").click()
    expect(page.get_by_role("status")).to_contain_text(f"Rendez-vous fixé le {day:%d/%m/%Y}")
    expect(page.get_by_role("table", name=f"Rendez-vous du dossier {case.reference}")
           ).to_contain_text("Prévu")
    browser.check("dossier-rendez-vous")


def test_social_worker_evaluates_resolves_suggestions_and_submits_to_the_lender(
        browser, users, session, tenant, in_tenant, make_user, enable_plugin):
    lender_agent(tenant, make_user, enable_plugin)
    enable_plugin(tenant, "caf")
    enable_plugin(tenant, "adie")
    worker = users["social_worker"]
    case = case_in(session, tenant, in_tenant, users["secretary"], "ficp_pending",
                   State.documents_requested, State.evaluation, ficp_clear=True,
                   purpose="housing", amount="1200", children=(4,), worker=worker,
                   project="Dépôt de garantie ; elle envisage aussi une micro-entreprise.")
    page = browser.page
    browser.login(worker.email, TEST_PASSWORD, "alpha")
    browser.goto(f"/t/alpha/cases/{case.id}")
    browser.check("dossier-evaluation")
    # The interview.
    page.get_by_role("link", name="Saisir un entretien").click()
    browser.check("entretien")
    page.get_by_label("Durée (minutes)").fill("60")
    page.get_by_label("Note partagée", exact=False).fill(
        "Projet de logement, ressources stables depuis six mois.")
    page.get_by_role("button", name="Enregistrer l'entretien").click()
    expect(page.get_by_role("status")).to_contain_text("Entretien enregistré.")
    # The budget.
    page.get_by_role("link", name="Saisir ou modifier le budget").click()
    browser.check("budget")
    page.get_by_label("Salaires", exact=False).first.fill("1 450")
    page.get_by_label("Loyer", exact=False).first.fill("520")
    page.get_by_role("button", name="Enregistrer le budget").click()
    expect(page.get_by_role("status")).to_contain_text("Budget enregistré.")
    # Instruction is refused while a suggestion is unresolved.
    page.get_by_role("button", name="Passer à l'instruction").click()
    expect(page.get_by_role("alert")).to_contain_text("L'action n'a pas été enregistrée")
    suggestions = page.get_by_role("region", name="Autres aides d'abord")
    articles = suggestions.get_by_role("article")
    count = articles.count()
    assert count >= 2, "the CAF and ADIE plugins should each suggest an aid"
    for i in range(count):
        article = page.get_by_role("region", name="Autres aides d'abord").get_by_role(
            "article").nth(i)
        article.get_by_label("Ne s'applique pas", exact=True).check()
        article.get_by_label("Motif ou précision", exact=False).fill(
            "Vérifié avec la personne : ne s'applique pas à son projet.")
        article.get_by_role("button", name="Enregistrer la suite donnée").click()
        expect(page.get_by_role("status")).to_contain_text("Ne s'applique pas")
    while page.get_by_role("button", name="Passer outre").count():
        page.get_by_label("Passer outre", exact=False).first.fill(
            "Le projet financé est personnel : le logement.")
        page.get_by_role("button", name="Passer outre").first.click()
        expect(page.get_by_role("status")).to_be_visible()
    browser.check("suggestions-resolues")
    page.get_by_role("button", name="Passer à l'instruction").click()
    expect(page.get_by_role("status")).to_contain_text("Instruction")
    page.get_by_role("button", name="Transmettre au prêteur").click()
    expect(page.get_by_role("status")).to_contain_text("Transmis au prêteur")
    browser.check("dossier-transmis")
    assert state_of(session, tenant, in_tenant, case.id) == State.submitted_to_lender


def test_lender_grants_then_signing_and_disbursement(
        browser, users, session, tenant, in_tenant, make_user, enable_plugin):
    from plugins.credit_municipal.models import Loan

    agent = lender_agent(tenant, make_user, enable_plugin)
    case = case_in(session, tenant, in_tenant, users["secretary"])
    with in_tenant(tenant):
        session.get(Case, (tenant.id, case.id)).state = State.submitted_to_lender
        session.commit()
        session.refresh(case)  # read inside the tenant (row-level security)
        case_id, reference = case.id, case.reference
    page = browser.page
    browser.login(agent.email, TEST_PASSWORD, "alpha")
    browser.menu("Prêts", "Dossiers transmis")
    browser.check("preteur-dossiers-transmis")
    page.get_by_role("link", name=f"Décider – {reference}").click()
    browser.check("preteur-decision")
    page.get_by_label("Durée (mois)").fill("12")
    page.get_by_role("button", name="Accorder").click()
    expect(page.get_by_role("status")).to_contain_text("ccord")
    browser.check("preteur-pret-accorde")
    # The tripartite signing took place three weeks ago (decision seeded before it).
    with in_tenant(tenant):
        loan = session.scalar(select(Loan))
        loan.decided_on = clock.today() - timedelta(days=30)
        session.commit()
        loan_id = loan.id
    session.expire_all()
    browser.goto(f"/t/alpha/p/credit_municipal/loans/{loan_id}")
    signed = (clock.today() - timedelta(days=20)).isoformat()
    for label in ("Signature de l'emprunteur (date)", "Signature du Crédit Municipal (date)",
                  "Signature du CCAS (date)"):
        page.get_by_label(label).fill(signed)
    page.get_by_label("Signataire pour le Crédit Municipal").fill("Paul Prêteur")
    page.get_by_label("Signataire pour le CCAS").fill("Claire CCAS")
    page.get_by_role("button", name="Enregistrer la signature").click()
    expect(page.get_by_role("status")).to_contain_text("Signature tripartite enregistrée")
    browser.check("preteur-pret-signe")
    page.get_by_role("button", name="Décaisser").click()
    expect(page.get_by_role("status")).to_contain_text("Décaissement enregistré")
    browser.check("preteur-pret-decaisse")
    # Disbursed, then "repaying" at once (the schedule is set).
    assert state_of(session, tenant, in_tenant, case_id) in (State.disbursed, State.repaying)
