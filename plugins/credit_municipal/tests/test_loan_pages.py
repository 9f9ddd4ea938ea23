"""Lender pages through the web client: from a submitted file to a loan being repaid,
the repayment import with its preview, and who may see what."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask import render_template
from sqlalchemy import select

from core.plugin_api import Case, State
from plugins.credit_municipal import loans as service
from plugins.credit_municipal.models import Installment, Loan, Repayment

from .loan_helpers import D, disbursed_loan, fresh, open_case_at

BASE = "/t/alpha/p/credit_municipal"


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")


def test_a_lender_takes_a_submitted_file_to_repayment(client, login, session, tenant,
                                                      in_tenant, users):
    case = open_case_at(session, tenant, in_tenant, social_worker=users["social_worker"])
    login(client, users["lender_agent"])

    page = client.get(f"{BASE}/loans/submitted")
    assert page.status_code == 200 and case.reference in page.get_data(as_text=True)
    page = client.get(f"{BASE}/loans/decision/{case.id}")
    assert page.status_code == 200 and "Accorder le prêt" in page.get_data(as_text=True)

    # decision: granted
    response = client.post(f"{BASE}/loans/decision/{case.id}", data={
        "action": "grant", "version": case.version, "amount_granted": "3000",
        "months": "36", "annual_rate": "3,04", "method": "annuity"})
    assert response.status_code == 302
    with in_tenant(tenant):
        loan = session.scalar(select(Loan).where(Loan.case_id == case.id))
    case = fresh(session, tenant, in_tenant, Case, case.id)
    assert case.state == State.granted and loan.amount == D("3000.00")

    # offer and contract can be printed
    offer = client.get(f"{BASE}/loans/{loan.id}/offre.pdf")
    assert offer.status_code == 200 and offer.mimetype == "application/pdf"
    assert client.get(f"{BASE}/loans/{loan.id}/contrat-accompagnement.pdf").status_code == 200

    # tripartite signing today
    today = service.today().isoformat()
    response = client.post(f"{BASE}/loans/{loan.id}/sign", data={
        "version": case.version, "borrower_signed_on": today, "lender_signed_on": today,
        "ccas_signed_on": today, "lender_signatory": "P. Prêteur",
        "ccas_signatory": "C. Travailleuse"})
    assert response.status_code == 302
    case = fresh(session, tenant, in_tenant, Case, case.id)
    assert case.state == State.withdrawal_period

    # disbursement refused during the withdrawal period, with the reason on the page
    response = client.post(f"{BASE}/loans/{loan.id}/disburse",
                           data={"version": case.version, "disbursed_on": today})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "délai de rétractation" in body and 'role="alert"' in body
    assert fresh(session, tenant, in_tenant, Case, case.id).state == State.withdrawal_period

    # fifteen days later (the signing is moved back instead of the clock)
    with in_tenant(tenant):
        row = session.get(Loan, (tenant.id, loan.id))
        past = service.today() - timedelta(days=15)
        row.borrower_signed_on = row.lender_signed_on = row.ccas_signed_on = past
        row.signed_on, row.withdrawal_ends_on = past, past + timedelta(days=14)
        session.commit()
    response = client.post(f"{BASE}/loans/{loan.id}/disburse",
                           data={"version": case.version, "disbursed_on": today})
    assert response.status_code == 302
    case = fresh(session, tenant, in_tenant, Case, case.id)
    assert case.state == State.repaying
    with in_tenant(tenant):
        rows = session.scalars(select(Installment).where(Installment.loan_id == loan.id)
                               .order_by(Installment.number)).all()
    assert len(rows) == 36 and rows[0].payment == D("87.30")
    page = client.get(f"{BASE}/loans/{loan.id}").get_data(as_text=True)
    assert "Échéancier en vigueur" in page and "87,30" in page


def test_a_decision_form_error_is_shown_on_its_field(client, login, session, tenant,
                                                     in_tenant, users):
    case = open_case_at(session, tenant, in_tenant)
    login(client, users["lender_agent"])
    response = client.post(f"{BASE}/loans/decision/{case.id}", data={
        "action": "grant", "version": case.version, "amount_granted": "abc", "months": "36"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="amount_granted-erreur"' in body and 'aria-invalid="true"' in body
    assert fresh(session, tenant, in_tenant, Case, case.id).state == State.submitted_to_lender


def test_repayment_import_previews_line_errors_then_imports_once(client, login, session,
                                                                 tenant, in_tenant, users):
    loan = disbursed_loan(session, tenant, in_tenant, users, amount="1200", months=12,
                          disbursed_days_ago=70)
    with in_tenant(tenant):
        rows = session.scalars(select(Installment).where(Installment.loan_id == loan.id)
                               .order_by(Installment.number)).all()
    good = [f"{loan.reference};{r.due_date:%d/%m/%Y};{r.borrower_payment}" for r in rows[:2]]
    login(client, users["lender_agent"])

    bad = "\n".join(["reference;date;montant", *good, "NOPE;01/01/2026;10"]).encode()
    response = client.post(f"{BASE}/repayments/import", data={
        "file": (io.BytesIO(bad), "releve.csv")}, content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Prêt inconnu" in body
    assert "Confirmer" not in body

    content = "\n".join(["reference;date;montant", *good]).encode()
    response = client.post(f"{BASE}/repayments/import", data={
        "file": (io.BytesIO(content), "releve.csv")}, content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Nouvelle : sera enregistrée" in body
    import base64

    encoded = base64.b64encode(content).decode()
    response = client.post(f"{BASE}/repayments/import", data={
        "content": encoded, "filename": "releve.csv", "confirm": "1"})
    assert response.status_code == 302
    response = client.post(f"{BASE}/repayments/import", data={
        "content": encoded, "filename": "releve.csv", "confirm": "1"}, follow_redirects=True)
    assert "Rien de nouveau" in response.get_data(as_text=True)
    session.expire_all()
    with in_tenant(tenant):
        assert len(session.scalars(select(Repayment)).all()) == 2


def test_the_loans_page_lists_loans_in_arrears(client, login, session, tenant, in_tenant,
                                               users):
    loan = disbursed_loan(session, tenant, in_tenant, users, amount="1200", months=12,
                          disbursed_days_ago=100)
    login(client, users["lender_agent"])
    body = client.get(f"{BASE}/loans?retard=1").get_data(as_text=True)
    assert loan.reference in body and "PAR30" in body and "jours" in body


def test_the_manager_sees_guarantee_calls_and_the_subsidy_cost(client, login, session,
                                                               tenant, in_tenant, users):
    disbursed_loan(session, tenant, in_tenant, users, disbursed_days_ago=100)
    login(client, users["manager"])
    body = client.get(f"{BASE}/guarantees").get_data(as_text=True)
    assert "Ville" in body and "450,00" in body  # 15 % of 3,000 lent
    body = client.get(f"{BASE}/subsidy").get_data(as_text=True)
    assert "Coût par année" in body


def test_partners_cannot_use_the_lender_pages(client, login, users):
    login(client, users["referrer"])
    assert client.get(f"{BASE}/loans").status_code == 403
    assert client.get(f"{BASE}/repayments/import").status_code == 403


def test_lender_pages_answer_404_when_the_plugin_is_disabled(client, login, make_tenant,
                                                             make_user):
    other = make_tenant("gamma")
    agent = make_user(other, "lender_agent", org="Crédit Municipal", org_kind="lender")
    login(client, agent)
    assert client.get("/t/gamma/p/credit_municipal/loans").status_code == 404


def test_another_tenants_loan_is_404(client, login, session, tenant, in_tenant, users,
                                     other_tenant, make_user, enable_plugin):
    loan = disbursed_loan(session, tenant, in_tenant, users, disbursed_days_ago=40)
    enable_plugin(other_tenant, "credit_municipal")
    agent = make_user(other_tenant, "lender_agent", org="Crédit Municipal", org_kind="lender")
    login(client, agent)
    assert client.get(f"/t/beta/p/credit_municipal/loans/{loan.id}").status_code == 404


def test_the_case_page_panel_shows_the_loan(app, session, tenant, in_tenant, users):
    from plugins.credit_municipal import views_loans

    loan = disbursed_loan(session, tenant, in_tenant, users, disbursed_days_ago=40)
    with app.test_request_context("/t/alpha/"), in_tenant(tenant):
        case = session.get(Case, (tenant.id, loan.case_id))
        (panel,) = views_loans.case_panels(session, case, users["social_worker"])
        # the block's template with its values, rendered by the case page with its own
        # context (``Panel.context``): the same HTML as ``render_template`` gives
        html = render_template(panel.template, **panel.context)
        assert panel.title == "Prêt"
        assert "Capital restant dû" in html and "3 000,00" in html.replace("\u202f", " ")
        assert views_loans.case_panels(session, case, users["referrer"]) is None


def test_the_case_page_shows_the_loan_block(client, login, session, tenant, in_tenant, users):
    loan = disbursed_loan(session, tenant, in_tenant, users, disbursed_days_ago=40)
    login(client, users["social_worker"])
    html = client.get(f"/t/alpha/cases/{loan.case_id}").get_data(as_text=True)
    block = html[html.index(">Prêt</h2>"):]
    assert "Capital restant dû" in block and "3 000,00" in block.replace("\u202f", " ")


def test_the_loans_page_sorts_by_its_columns_late_loans_first(client, login, session,
                                                              tenant, in_tenant, users):
    """Sortable headers (``core.sorting``): by days late (most late first on the first
    click), by amount both ways, an unknown column giving the reference order."""
    late = disbursed_loan(session, tenant, in_tenant, users, amount="1200", months=12,
                          disbursed_days_ago=100)
    recent = disbursed_loan(session, tenant, in_tenant, users, amount="2500", months=12,
                            disbursed_days_ago=5)
    login(client, users["lender_agent"])

    def order(query):
        body = client.get(f"{BASE}/loans{query}").get_data(as_text=True)
        table = body.split("<tbody>", 1)[1]
        return sorted((late.reference, recent.reference), key=table.index), body

    by_reference = sorted((late.reference, recent.reference))
    assert order("")[0] == by_reference
    assert order("?sort=nonsense&dir=up")[0] == by_reference
    first, body = order("?sort=days_late&dir=desc")
    assert first == [late.reference, recent.reference]
    assert 'aria-sort="descending"' in body and "Jours de retard" in body
    assert order("?sort=amount&dir=asc")[0] == [late.reference, recent.reference]
    assert order("?sort=amount&dir=desc")[0] == [recent.reference, late.reference]
    # the late-only filter is kept by the headers
    body = client.get(f"{BASE}/loans?retard=1&sort=amount&dir=asc").get_data(as_text=True)
    assert late.reference in body and recent.reference not in body
    assert "retard=1&amp;sort=amount&amp;dir=desc" in body
