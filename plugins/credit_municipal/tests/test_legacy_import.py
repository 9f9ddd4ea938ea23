"""``ccas import loans``: legacy loans onto legacy cases, with the case import's rules
(French headers, cp1252/UTF-8, ``;``/``,``, dry run, all or nothing, idempotent, line and
column in errors); the portfolio, arrears and guarantee position on day one."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.plugin_api import Case, State, UserError
from plugins.credit_municipal import delinquency, legacy_import
from plugins.credit_municipal import loans as service
from plugins.credit_municipal.models import GuaranteeCall, Installment, Loan, LoanStatus

from .loan_helpers import D, open_case_at


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")


@pytest.fixture
def cases(session, tenant, in_tenant):
    out = []
    for i, name in enumerate((("Léa", "Martin"), ("Paul", "Durand"), ("Zoé", "Petit"))):
        out.append(open_case_at(session, tenant, in_tenant, state=State.granted,
                                name=name, amount=str(1000 + i)).reference)
    return out


HEADER = ("Référence dossier;Référence prêt;Montant prêté;Durée (mois);Taux;"
          "Date de décaissement;Total remboursé;Date du dernier remboursement;"
          "Date de défaillance\n")


def _file(cases, today, encoding="utf-8", delimiter=";"):
    year = today.year - 2
    lines = [
        # being repaid, up to date for a year (12 x 87.30 minus the City's interest share
        # is not known here: pay 12 full borrower instalments of a 0 % loan)
        f"{cases[0]};P-{cases[0]};1200;12;0;05/01/{year};600,00;05/06/{year}\n",
        # repaid in full
        f"{cases[1]};;1000;10;0;05/01/{year};1000;05/10/{year}\n",
        # in default, nothing repaid
        f"{cases[2]};;3000;36;3,04;05/01/{year};;;05/09/{year}\n",
    ]
    text = HEADER + "".join(lines)
    if delimiter != ";":
        text = text.replace(";", delimiter).replace("600,00", "600.00").replace(
            "3,04", "3.04")
    return text.encode(encoding)


def test_legacy_loans_give_the_portfolio_arrears_and_guarantees_on_day_one(
        session, tenant, in_tenant, cases):
    with in_tenant(tenant):
        today = service.today()
        result = legacy_import.run_import(session, tenant, _file(cases, today), "prets.csv")
        session.commit()
        assert result.errors == [] and result.created == 3
        loans = {loan.reference: loan for loan in session.scalars(select(Loan))}
        first = loans[f"P-{cases[0]}"]
        assert first.status == LoanStatus.repaying and first.origin == "import"
        assert session.scalar(select(func.count()).select_from(Installment)
                              .where(Installment.loan_id == first.id)) == 12
        assert loans[cases[1]].status == LoanStatus.repaid
        defaulted = loans[cases[2]]
        assert defaulted.status == LoanStatus.defaulted
        assert defaulted.default_outstanding == D("3000.00")
        calls = {c.guarantor: c.amount for c in session.scalars(select(GuaranteeCall))}
        # 50 % of 3,000 by the fund; the City's cap is 15 % of the 5,200 lent = 780
        assert calls == {"fcs": D("1500.00"), "city": D("780.00")}
        # the first loan paid 600 of 1,200 (6 instalments) and is late since then
        positions = {loan.id: days for loan, _a, days in
                     delinquency.positions_as_of(session, today)}
        assert positions[first.id] > 90
        states = dict(session.execute(select(Case.reference, Case.state)).all())
        assert states[cases[0]] == "repaying" and states[cases[1]] == "closed"


def test_the_same_file_again_creates_nothing(session, tenant, in_tenant, cases):
    with in_tenant(tenant):
        data = _file(cases, service.today())
        legacy_import.run_import(session, tenant, data, "prets.csv")
        session.commit()
        again = legacy_import.run_import(session, tenant, data, "prets.csv")
        session.commit()
        assert again.created == 0 and again.already == 3 and again.errors == []
        assert session.scalar(select(func.count()).select_from(Loan)) == 3


def test_windows_1252_with_commas_is_read(session, tenant, in_tenant, cases):
    with in_tenant(tenant):
        data = _file(cases, service.today(), encoding="cp1252", delimiter=",")
        result = legacy_import.run_import(session, tenant, data, "prets.csv", dry_run=True)
        assert result.errors == [] and len(result.loans) == 3 and not result.written
        assert session.scalar(select(func.count()).select_from(Loan)) == 0


def test_any_wrong_line_writes_nothing_and_names_line_and_column(session, tenant, in_tenant,
                                                                 cases):
    with in_tenant(tenant):
        year = service.today().year - 1
        data = (HEADER
                + f"{cases[0]};;1200;12;0;05/01/{year};;;\n"
                + f"INCONNU;;1200;12;0;05/01/{year};;;\n"
                + f"{cases[1]};;douze;48;;32/01/{year};50;;\n"
                + f"{cases[2]};;1000;12;0;05/01/{year};5000;05/02/{year};\n").encode()
        result = legacy_import.run_import(session, tenant, data, "prets.csv")
        assert not result.written
        where = {(e.line, e.column) for e in result.errors}
        assert (3, "reference_dossier") in where
        assert {(4, "montant"), (4, "duree_mois"), (4, "date_decaissement"),
                (4, "date_dernier_remboursement")} <= where
        assert (5, "montant_rembourse") in where
        assert "Ligne 3, colonne reference_dossier : dossier inconnu" in str(
            next(e for e in result.errors if e.line == 3))
        session.rollback()
        assert session.scalar(select(func.count()).select_from(Loan)) == 0


def test_a_file_without_the_required_columns_is_refused(session, tenant, in_tenant):
    with in_tenant(tenant), pytest.raises(UserError) as caught:
        legacy_import.run_import(session, tenant, b"Nom;Montant\nX;3\n", "x.csv")
    assert "date de décaissement" in caught.value.message


def test_ccas_import_loans_is_the_lenders_subcommand(ccas, session, tenant, in_tenant, cases,
                                                     tmp_path):
    with in_tenant(tenant):
        path = tmp_path / "prets.csv"
        path.write_bytes(_file(cases, service.today()))
    dry = ccas("import", "loans", str(path), "--tenant", "alpha", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "3 prêts seraient créés" in dry.output and "Simulation" in dry.output
    done = ccas("import", "loans", str(path), "--tenant", "alpha")
    assert done.exit_code == 0, done.output
    assert "3 prêts créés" in done.output
    again = ccas("import", "loans", str(path), "--tenant", "alpha")
    assert "0 prêts créés, 3 déjà importés" in again.output
    cases_help = ccas("import", "--help")
    assert "cases" in cases_help.output and "loans" in cases_help.output
