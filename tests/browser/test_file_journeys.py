"""Journeys of the applicant's file in a real browser: the social worker attaches a
document (the checklist ticks itself), writes the synthesis, is refused the submission
without interview nor budget, completes the evaluation and submits; the partner reports
what came of a reorientation. Every page is checked by axe-core."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import expect
from sqlalchemy import select

from core import cases, workflow
from core.models import Case, CaseDocument, DocumentStatus, Organisation, Referral, State
from core.testing.pytest_plugin import TEST_PASSWORD
from core.workflow import TransitionRequest

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def state_of(session, tenant, in_tenant, case_id) -> State:
    session.expire_all()
    with in_tenant(tenant):
        return State(session.scalar(select(Case.state).where(Case.id == case_id)))


def test_social_worker_attaches_writes_the_synthesis_and_submits_after_a_refusal(
        browser, users, session, tenant, in_tenant):
    worker = users["social_worker"]
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Léa", "Martin", date(1990, 5, 17), phone="06 12 34 56 78"))
        case = cases.open_case(session, person, "mobility", "1500", actor=worker,
                               tenant=tenant)
        case.social_worker_id = worker.id
        for target in (State.documents_requested, State.evaluation, State.instruction):
            workflow.apply_transition(session, case, TransitionRequest(target, case.version),
                                      worker)
        session.commit()
        case_id = case.id
    page = browser.page
    browser.login(worker.email, TEST_PASSWORD, "alpha")
    browser.goto(f"/t/alpha/cases/{case_id}")

    # Attach the identity card: stored, listed, and the checklist line is received.
    files = page.get_by_role("region", name="Pièces déposées")
    files.get_by_label("Type de pièce").select_option(value="identity")
    files.get_by_label("Fichier", exact=False).set_input_files(files=[{
        "name": "carte-identite.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    files.get_by_label("Expire le", exact=False).fill("2033-05-01")
    files.get_by_role("button", name="Déposer la pièce").click()
    expect(page.get_by_role("status")).to_contain_text("Pièce déposée")
    expect(page.get_by_role("table", name="Pièces déposées sur le dossier", exact=False)
           ).to_contain_text("carte-identite.pdf")
    browser.check("dossier-piece-deposee")
    with in_tenant(tenant):
        line = session.scalar(select(CaseDocument).where(CaseDocument.case_id == case_id,
                                                         CaseDocument.code == "identity"))
        assert line.status == DocumentStatus.received

    # A file that is not a PDF/JPEG/PNG is refused by its content, with the field named.
    files = page.get_by_role("region", name="Pièces déposées")
    files.get_by_label("Fichier", exact=False).set_input_files(files=[{
        "name": "faux.pdf", "mimeType": "application/pdf", "buffer": b"<html>nope</html>"}])
    files.get_by_role("button", name="Déposer la pièce").click()
    expect(page.get_by_role("alert")).to_contain_text("ni un PDF")
    browser.check()
    page.get_by_role("link", name="Retour au dossier").click()

    # The move to the lender is refused: no interview, no budget, both named.
    page.get_by_role("button", name="Transmettre au prêteur").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("un entretien d'évaluation tenu")
    expect(alert).to_contain_text("le budget du foyer")
    browser.check("dossier-transmission-refusee")

    # The synthesis.
    page.get_by_role("link", name="Rédiger ou mettre à jour la synthèse").click()
    browser.check("synthese")
    page.get_by_label("La demande").fill("Voiture pour un CDI à 30 km.")
    page.get_by_label("Le projet").fill("Véhicule d'occasion, devis de 1 500 €.")
    page.get_by_label("Les ressources et les charges").fill("Salaire 1 450 €, loyer 520 €.")
    page.get_by_label("Les perspectives").fill("CDI confirmé en mars.")
    page.get_by_role("button", name="Enregistrer la synthèse").click()
    expect(page.get_by_role("status")).to_contain_text("Synthèse enregistrée (version 1)")
    expect(page.get_by_role("region", name="Synthèse de la situation")
           ).to_contain_text("CDI confirmé en mars.")

    # The interview and the budget, then the submission goes through.
    page.get_by_role("link", name="Saisir un entretien").click()
    page.get_by_label("Durée (minutes)").fill("60")
    page.get_by_label("Note partagée", exact=False).fill("Projet cohérent, CDI confirmé.")
    page.get_by_role("button", name="Enregistrer l'entretien").click()
    expect(page.get_by_role("status")).to_contain_text("Entretien enregistré.")
    page.get_by_role("link", name="Saisir ou modifier le budget").click()
    page.get_by_label("Salaires", exact=False).first.fill("1 450")
    page.get_by_label("Loyer", exact=False).first.fill("520")
    page.get_by_role("button", name="Enregistrer le budget").click()
    expect(page.get_by_role("status")).to_contain_text("Budget enregistré.")
    page.get_by_role("button", name="Transmettre au prêteur").click()
    expect(page.get_by_role("status")).to_contain_text("Transmis au prêteur")
    browser.check("dossier-transmis-apres-evaluation")
    assert state_of(session, tenant, in_tenant, case_id) == State.submitted_to_lender

    # The file summary carries the synthesis and the stored document.
    browser.goto(f"/t/alpha/cases/{case_id}/summary")
    expect(page.get_by_role("region", name="Synthèse de la situation")).to_contain_text(
        "Voiture pour un CDI")
    expect(page.get_by_role("region", name="Pièces déposées")).to_contain_text(
        "Pièce d'identité")


def test_partner_reports_what_came_of_a_reorientation(browser, users, session, tenant,
                                                      in_tenant):
    with in_tenant(tenant):
        partner = session.scalar(select(Organisation).where(
            Organisation.name == "Association partenaire"))
        person = cases.create_person(session, cases.PersonData("Paul", "Durand",
                                                               date(1985, 1, 1)))
        case = cases.open_case(session, person, "employment", "2000", tenant=tenant)
        workflow.apply_transition(session, case, TransitionRequest(
            "reoriented", case.version, reason="professional_project",
            destination=f"org:{partner.id}",
            data={"consent": "yes", "consent_method": "in_person"}), users["social_worker"])
        session.commit()
        referral_id = session.scalar(select(Referral.id).where(
            Referral.source_case_id == case.id))
    page = browser.page
    browser.login(users["referrer"].email, TEST_PASSWORD, "alpha")
    browser.goto(f"/t/alpha/orientations/{referral_id}")
    expect(page.locator("main")).to_contain_text("de vive voix, en entretien")
    page.get_by_role("button", name="Accepter", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Orientation acceptée")
    browser.check("partenaire-orientation-acceptee")
    page.get_by_role("button", name="Indiquer que la demande est en cours de traitement"
                     ).click()
    expect(page.get_by_role("status")).to_contain_text("en cours de traitement")
    page.get_by_role("button", name="Enregistrer la suite donnée").click()
    expect(page.get_by_role("alert")).to_contain_text("Indiquez la suite donnée")
    browser.check()
    page.get_by_label("Suite donnée").select_option(label="Aide ou accompagnement accordé")
    page.get_by_label("Message au prescripteur (facultatif)").fill("Microcrédit ADIE accordé.")
    page.get_by_role("button", name="Enregistrer la suite donnée").click()
    expect(page.get_by_role("status")).to_contain_text("Suite enregistrée")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Suite donnée")
    browser.check("partenaire-suite-donnee")
