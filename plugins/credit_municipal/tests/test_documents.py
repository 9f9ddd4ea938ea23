"""The loan offer and the accompaniment contract as PDF: their text is read back with
pypdf (text extraction of the embedded Unicode font)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pypdf
import pytest

from core.plugin_api import build_schedule
from plugins.credit_municipal import documents

D = Decimal


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def data(subsidy_share="0", **kw) -> documents.LoanDocumentData:
    schedule = build_schedule(D("3000"), 36, D("3.04"), start_date=date(2026, 3, 2),
                              subsidy_share=D(subsidy_share))
    values = dict(
        tenant_name="CCAS de Toulouse", city="Toulouse", case_reference="2026-00042",
        loan_reference="2026-00042", borrower_name="Léa Martin",
        borrower_address="3 rue des Lilas 31000 Toulouse", purpose_label="Mobilité",
        amount=D("3000.00"), months=36, annual_rate=D("3.04"), method="annuity",
        subsidy_share=D(subsidy_share), decided_on=date(2026, 2, 10),
        offer_valid_until=date(2026, 2, 25), schedule=schedule,
        social_worker_name="Anne Dupont",
    )
    values.update(kw)
    return documents.LoanDocumentData(**values)


def test_the_offer_shows_the_standard_pre_contract_information():
    text = text_of(documents.offer_pdf(data()))
    assert "Offre de prêt" in text and "Léa Martin" in text
    assert "3 000,00 €" in text and "36 mois" in text
    assert "87,30 €" in text  # the instalment
    assert "TAEG" in text and "3,08 %" in text  # APR with two decimals
    assert "Coût total du crédit 142,70 €" in text
    assert "14 jours calendaires" in text and "15 jours" in text and "25/02/2026" in text
    assert "02/04/2026" in text and "02/03/2029" in text  # first and last rows


def test_a_fully_subsidised_offer_shows_an_apr_of_zero():
    text = text_of(documents.offer_pdf(data(subsidy_share="100")))
    assert "TAEG (taux annuel effectif global) 0,00 %" in text
    assert "Coût total du crédit 0,00 €" in text


def test_the_accompaniment_contract_runs_for_the_whole_loan():
    text = text_of(documents.accompaniment_contract_pdf(data()))
    assert "Contrat d'accompagnement social" in text
    assert "36 mois" in text and "02/03/2029" in text and "Anne Dupont" in text
    assert "première échéance impayée" in text


def test_without_a_unicode_font_the_core_font_still_produces_the_offer(monkeypatch):
    monkeypatch.setattr(documents, "find_unicode_font", lambda: None)
    text = text_of(documents.offer_pdf(data()))
    assert "3 000,00 EUR" in text and "Offre de prêt" in text


@pytest.mark.parametrize("render", [documents.offer_pdf,
                                    documents.accompaniment_contract_pdf])
def test_documents_are_pdf(render):
    assert render(data()).startswith(b"%PDF-")


def test_the_offer_ends_with_the_detachable_withdrawal_slip():
    pdf = documents.offer_pdf(data())
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    last = pages[-1].extract_text()
    assert "Bordereau de rétractation" in last and "découper ici" in last
    assert "2026-00042" in last and "déclare renoncer à l'offre de crédit" in last
    assert "Bordereau de rétractation" not in pages[0].extract_text()
    assert "bordereau de rétractation détachable joint" in text_of(pdf)


def test_the_fipen_is_its_own_document_given_before_the_offer():
    text = text_of(documents.fipen_pdf(data())).replace("\n", " ")
    assert "Fiche d'informations précontractuelles européennes normalisées" in text
    assert "avant l'offre" in text and "3 000,00 €" in text and "36 mois" in text
    assert "3,08 %" in text and "142,70 €" in text and "FICP" in text
    assert "14 jours calendaires" in text and "sans indemnité" in text
    assert "Bordereau" not in text
