"""Import of legacy spreadsheets: encodings, delimiters, XLSX, per-row errors with their
line and column, all-or-nothing, skip-invalid with a rejects file, idempotent re-import,
dry run, and the states and dated history the rows imply."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import cases
from core.errors import UserError
from core.importer import columns as col
from core.importer import run_import
from core.models import Case, CaseTransition, Person
from core.reports import build_report

TOULOUSE_CP1252 = (
    "Référence;Date de la demande;Nom;Prénom;Date de naissance;Objet;Montant demandé;"
    "Situation professionnelle;Orientation;Date d'instruction;Date de décision;Décision;"
    "Montant accordé;Durée (mois)\r\n"
    "2018-001;15/01/2018;Dupré;Hélène;03/04/1990;Mobilité;1 500,00;CDD;;01/02/2018;"
    "20/02/2018;Accordé;1 500,00;24\r\n"
    "2018-002;2018-02-03;Lefèvre;Noël;1985-12-25;logement;800;intérim;;;;;;\r\n"
    "2018-003;10/03/2018;Garçon;Zoé;;Dettes;2000;RSA;Point conseil budget;;;;;\r\n"
    "2018-004;12/03/2018;Martin;Éloïse;01/01/1970;équipement ménager;600;CDI;;15/03/2018;"
    "01/04/2018;refusé;;\r\n"
).encode("cp1252")

DIRTY = (
    "reference,date_demande,nom,prenom,objet,montant_demande\n"
    "D-1,2019-02-10,Ok,Anne,mobilité,1000\n"
    "D-2,2019-02-30,Bad,Date,mobilité,1000\n"
    "D-3,2019-03-01,Bad,Purpose,voyage,1000\n"
    "D-4,2019-03-02,Bad,Amount,logement,-200\n"
    "D-5,2019-03-03,Ok,Bernard,santé,300\n"
).encode()

DIRTY_ERRORS = [
    "Ligne 3, colonne date_demande : date inexistante « 2019-02-30 ».",
    "Ligne 4, colonne objet : objet inconnu « voyage ».",
    "Ligne 5, colonne montant_demande : le montant doit être positif (« -200 »).",
]


def do_import(session, tenant, in_tenant, data, name="legacy.csv", **kw):
    with in_tenant(tenant):
        result = run_import(session, tenant, data, name, **kw)
        if result.written:
            session.commit()
        else:
            session.rollback()
    return result


def count(session, tenant, in_tenant, model=Case):
    with in_tenant(tenant):
        return session.scalar(select(func.count()).select_from(model))


def test_semicolon_windows_1252_file_lands_in_the_states_its_dates_imply(
        app, tenant, session, in_tenant):
    result = do_import(session, tenant, in_tenant, TOULOUSE_CP1252)
    assert result.errors == [] and result.created == 4
    with in_tenant(tenant):
        by_ref = {c.reference: c for c in session.scalars(select(Case))}
        assert {r: str(c.state) for r, c in by_ref.items()} == {
            "2018-001": "granted", "2018-002": "intake", "2018-003": "reoriented",
            "2018-004": "refused",
        }
        first = by_ref["2018-001"]
        assert (first.person.first_name, first.person.last_name) == ("Hélène", "Dupré")
        assert first.person.birth_date == date(1990, 4, 3)
        assert first.person.employment == "cdd" and first.source == "import"
        assert first.amount_requested == Decimal("1500.00")
        assert first.import_key == "ref:2018-001"
        assert by_ref["2018-003"].reoriented_to == "point_conseil_budget"
        assert by_ref["2018-003"].person.employment == "minimum_benefits"
        assert by_ref["2018-004"].purpose == "household_equipment"
        moves = session.scalars(
            select(CaseTransition).where(CaseTransition.case_id == first.id)
            .order_by(CaseTransition.at)
        ).all()
        assert [(m.from_state, m.to_state) for m in moves] == [
            (None, "intake"), ("intake", "instruction"), ("instruction", "submitted_to_lender"),
            ("submitted_to_lender", "granted"),
        ]
        # noon in Paris (UTC+1 in winter), a minute per step to keep their order
        assert moves[0].at == datetime(2018, 1, 15, 11, 0, tzinfo=UTC)
        assert moves[-1].at == datetime(2018, 2, 20, 11, 3, tzinfo=UTC)
        assert moves[-1].data == {"amount_granted": "1500.00", "months": 24}


def test_reports_over_an_imported_year_are_right(app, tenant, session, in_tenant):
    do_import(session, tenant, in_tenant, TOULOUSE_CP1252)
    with in_tenant(tenant):
        report = build_report(session, tenant, 2018)
    assert (report["requests"], report["instructions"], report["granted"]) == (4, 2, 1)
    assert report["purposes"]["mobility"] == 25.0
    assert report["loans"]["amount_lent"] == Decimal("1500.00")
    assert report["reorientations"]["by_destination"] == {"point_conseil_budget": 1}
    assert report["delays"]["intake_to_decision"] == {"count": 2, "median": 28.0, "p90": 36}


def test_xlsx_file_with_real_dates_and_numbers(app, tenant, session, in_tenant):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["N° dossier", "Date de la demande", "NOM", "prénom", "Objet du prêt",
                  "Montant", "Date instruction", "Date décision", "Avis", "Montant du prêt",
                  "Durée"])
    sheet.append(["X-1", datetime(2020, 5, 4), "Durand", "Paul", "Permis de conduire",
                  1200.5, date(2020, 5, 20), date(2020, 6, 2), "accordé", 1200, 18])
    sheet.append(["X-2", date(2020, 6, 1), "Petit", "Léa", "Santé", 450, None, None, None,
                  None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    result = do_import(session, tenant, in_tenant, buffer.getvalue(), "historique.xlsx")
    assert result.errors == [] and result.created == 2
    with in_tenant(tenant):
        granted = session.scalar(select(Case).where(Case.reference == "X-1"))
        assert granted.state == "granted" and granted.purpose == "mobility"
        assert granted.amount_requested == Decimal("1200.50")
        assert granted.intake_date == date(2020, 5, 4)
        last = session.scalar(select(CaseTransition).where(
            CaseTransition.case_id == granted.id, CaseTransition.to_state == "granted"))
        assert last.data == {"amount_granted": "1200.00", "months": 18}


def test_comma_utf8_bom_and_tab_files_are_read(app, tenant, session, in_tenant):
    bom = "\ufeffnom,prénom,date_demande,objet,montant_demande\nA,B,2021-01-02,autre,100\n"
    tab = "Nom\tPrénom\tDate de demande\tObjet\tMontant\nC\tD\t03/01/2021\tEmploi\t200\n"
    assert do_import(session, tenant, in_tenant, bom.encode("utf-8"), "a.csv").created == 1
    assert do_import(session, tenant, in_tenant, tab.encode("utf-8"), "b.tsv").created == 1
    assert count(session, tenant, in_tenant) == 2


def test_dirty_rows_are_reported_with_line_and_column_and_nothing_is_written(
        app, tenant, session, in_tenant):
    result = do_import(session, tenant, in_tenant, DIRTY)
    assert [str(e) for e in result.errors] == DIRTY_ERRORS
    assert result.written is False
    assert count(session, tenant, in_tenant) == 0
    assert count(session, tenant, in_tenant, Person) == 0


def test_skip_invalid_writes_the_valid_rows_only(app, tenant, session, in_tenant):
    result = do_import(session, tenant, in_tenant, DIRTY, skip_invalid=True)
    assert result.created == 2 and result.rejected_lines == [3, 4, 5]
    with in_tenant(tenant):
        assert sorted(session.scalars(select(Case.reference))) == ["D-1", "D-5"]


def test_reimporting_the_same_file_creates_nothing_new(app, tenant, session, in_tenant):
    first = do_import(session, tenant, in_tenant, TOULOUSE_CP1252)
    again = do_import(session, tenant, in_tenant, TOULOUSE_CP1252)
    assert first.created == 4
    assert again.created == 0 and again.already_imported == 4 and again.errors == []
    assert count(session, tenant, in_tenant) == 4
    # granted 4, intake 1, reoriented 2, refused 4
    assert count(session, tenant, in_tenant, CaseTransition) == 4 + 1 + 2 + 4


def test_rows_without_reference_are_keyed_by_their_content(app, tenant, session, in_tenant):
    data = (b"nom;prenom;date_demande;objet;montant_demande\n"
            b"Roux;Ana;02/02/2022;mobilite;900\n"
            b"Roux;Ana;03/02/2022;mobilite;900\n")
    assert do_import(session, tenant, in_tenant, data).created == 2
    # the same rows spelt differently are the same rows
    respelt = ("Nom;Prénom;Date de la demande;Objet;Montant\n"
               "ROUX;Ana;2022-02-02;Mobilité;900,00\n").encode()
    again = do_import(session, tenant, in_tenant, respelt)
    assert again.created == 0 and again.already_imported == 1
    with in_tenant(tenant):
        refs = session.scalars(select(Case.reference)).all()
        assert all(r.startswith("IMP-") for r in refs) and len(set(refs)) == 2
        # one person for both requests: same names (accents and case aside), no birth
        # date -> no merge; with a birth date the person is reused
        assert session.scalar(select(func.count()).select_from(Person)) == 2


def test_same_person_with_birth_date_is_reused(app, tenant, session, in_tenant):
    data = ("nom;prenom;date_naissance;date_demande;objet;montant_demande\n"
            "Roux;Ana;01/01/1990;02/02/2022;mobilite;900\n"
            "ROUX;Âna;1990-01-01;03/03/2023;santé;300\n").encode()
    assert do_import(session, tenant, in_tenant, data).created == 2
    assert count(session, tenant, in_tenant, Person) == 1


def test_identical_rows_in_one_file_are_refused(app, tenant, session, in_tenant):
    data = (b"nom;prenom;date_demande;objet;montant_demande\n"
            b"Roux;Ana;02/02/2022;mobilite;900\n"
            b"Roux;Ana;02/02/2022;mobilite;900\n")
    result = do_import(session, tenant, in_tenant, data)
    assert [str(e) for e in result.errors] == [
        "Ligne 3, ligne entière : ligne identique à celle déjà vue ligne 2."]


def test_a_reference_already_used_by_another_case_is_refused(
        app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Léa", "Martin"))
        cases.open_case(session, person, "mobility", "1500", reference="2018-001",
                        intake_date=date(2018, 1, 2), tenant=tenant)
        session.commit()
    result = do_import(session, tenant, in_tenant, TOULOUSE_CP1252)
    assert [str(e) for e in result.errors] == [
        "Ligne 2, colonne reference : référence « 2018-001 » déjà utilisée par un autre "
        "dossier."]
    assert count(session, tenant, in_tenant) == 1


def test_dry_run_writes_nothing(app, tenant, session, in_tenant):
    result = do_import(session, tenant, in_tenant, TOULOUSE_CP1252, dry_run=True)
    assert result.errors == [] and result.to_create == 4 and result.written is False
    assert count(session, tenant, in_tenant) == 0


@pytest.mark.parametrize(("row", "error"), [
    ("R;2019-01-10;N;P;mobilité;100;accordé;;2019-01-20;500;12",
     "Ligne 2, colonne date_instruction : date d'instruction manquante pour une décision."),
    ("R;2019-01-10;N;P;mobilité;100;accordé;2019-01-12;2019-01-20;;12",
     "Ligne 2, colonne montant_accorde : montant accordé manquant pour un prêt accordé."),
    ("R;2019-01-10;N;P;mobilité;100;;2019-01-12;2019-01-20;;",
     "Ligne 2, colonne decision : date de décision sans décision."),
    ("R;2019-01-10;N;P;mobilité;100;peut-être;;;;",
     "Ligne 2, colonne decision : décision inconnue (accordé, refusé, ajourné ou vide) "
     "« peut-être »."),
    ("R;2019-01-10;N;P;mobilité;100;refusé;2019-01-12;2019-01-05;;",
     "Ligne 2, colonne date_decision : décision avant l'instruction."),
    ("R;2019-01-10;N;P;mobilité;100;accordé;2019-01-12;2019-01-20;500;200",
     "Ligne 2, colonne duree_mois : durée en mois entière entre 1 et 120 attendue (« 200 »)."),
    ("R;2099-01-10;N;P;mobilité;100;;;;;",
     "Ligne 2, colonne date_demande : date dans le futur (10/01/2099)."),
    ("R;10/01/19;N;P;mobilité;100;;;;;",
     "Ligne 2, colonne date_demande : date illisible « 10/01/19 » (attendu AAAA-MM-JJ ou "
     "JJ/MM/AAAA)."),
])
def test_inconsistent_rows_name_the_column_at_fault(app, tenant, session, in_tenant, row,
                                                    error):
    header = ("reference;date_demande;nom;prenom;objet;montant_demande;decision;"
              "date_instruction;date_decision;montant_accorde;duree_mois\n")
    result = do_import(session, tenant, in_tenant, (header + row + "\n").encode("utf-8"))
    assert [str(e) for e in result.errors] == [error]


def test_missing_required_columns_refuse_the_file(app, tenant, session, in_tenant):
    with pytest.raises(UserError) as err, in_tenant(tenant):
        run_import(session, tenant, b"nom;prenom\nA;B\n", "x.csv")
    assert "date_demande" in err.value.message and "objet" in err.value.message


def test_headers_match_ignoring_case_accents_and_aliases():
    index, ignored = col.match_headers(
        ["DATE DE LA DEMANDE", "Nom", "Prénom", "Objet", "Montant sollicité", "Commentaire"])
    assert index == {"date_demande": 0, "nom": 1, "prenom": 2, "objet": 3,
                     "montant_demande": 4}
    assert ignored == ["Commentaire"]


@pytest.mark.parametrize(("text", "code"), [
    ("Mobilité", "mobility"), ("permis de conduire", "mobility"), ("LOGEMENT", "housing"),
    ("Équipement ménager", "household_equipment"), ("electromenager", "household_equipment"),
    ("Santé (soins dentaires)", "health"), ("rachat de dettes", "debts"),
    ("Formation", "training"), ("emploi", "employment"), ("Autre", "other"),
])
def test_purpose_words_and_variants(text, code):
    assert col.parse_purpose(text) == code


# -- the command ------------------------------------------------------------------------------




def test_command_refuses_a_dirty_file_and_lists_the_errors(ccas, tenant, session, in_tenant,
                                                           tmp_path):
    source = tmp_path / "sale.csv"
    source.write_bytes(DIRTY)
    result = ccas("import", "cases", "--tenant", "alpha", str(source))
    assert result.exit_code == 1
    for line in DIRTY_ERRORS:
        assert line in result.output
    assert "rien n'a été enregistré" in result.output
    assert count(session, tenant, in_tenant) == 0


def test_command_skip_invalid_writes_valid_rows_and_the_rejects_report(
        ccas, tenant, session, in_tenant, tmp_path):
    source = tmp_path / "sale.csv"
    source.write_bytes(DIRTY)
    report = tmp_path / "rejets.csv"
    result = ccas("import", "cases", "--tenant", "alpha", str(source), "--skip-invalid",
                  "--report", str(report))
    assert result.exit_code == 0, result.output
    assert count(session, tenant, in_tenant) == 2
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == ("ligne;colonne;erreur;reference;date_demande;nom;prenom;objet;"
                        "montant_demande")
    assert lines[1].startswith("3;date_demande;" + DIRTY_ERRORS[0])
    assert lines[1].endswith(";D-2;2019-02-30;Bad;Date;mobilité;1000")
    assert [line.split(";")[0] for line in lines[1:]] == ["3", "4", "5"]


def test_command_dry_run_then_import_then_reimport(ccas, tenant, session, in_tenant, tmp_path):
    source = tmp_path / "toulouse.csv"
    source.write_bytes(TOULOUSE_CP1252)
    dry = ccas("import", "cases", "--tenant", "alpha", str(source), "--dry-run")
    assert dry.exit_code == 0 and "rien n'a été enregistré" in dry.output
    assert count(session, tenant, in_tenant) == 0
    assert ccas("import", "cases", "--tenant", "alpha", str(source)).exit_code == 0
    again = ccas("import", "cases", "--tenant", "alpha", str(source))
    assert again.exit_code == 0 and "4 déjà importés" in again.output
    assert count(session, tenant, in_tenant) == 4


def test_command_report_writes_json_for_the_imported_year(ccas, tenant, tmp_path):
    import json

    source = tmp_path / "toulouse.csv"
    source.write_bytes(TOULOUSE_CP1252)
    ccas("import", "cases", "--tenant", "alpha", str(source))
    result = ccas("report", "--tenant", "alpha", "--year", "2018", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["requests"], data["instructions"], data["granted"]) == (4, 2, 1)
    assert data["loans"]["amount_lent"] == "1500.00"


def _toulouse_2018_sheet() -> bytes:
    """The seed's 2018 year as a legacy sheet: 4,838 requests, 1,914 instructed, 559
    granted; purposes in the seed's proportions (mobility 57 %, housing 18.5 %, debts
    11.6 %, training 4.5 %, the rest spread over the other purposes)."""
    purposes = (["Mobilité"] * 2758 + ["Logement"] * 895 + ["Dettes"] * 561
                + ["Formation"] * 218 + ["Équipement ménager"] * 150 + ["Santé"] * 100
                + ["Emploi"] * 80 + ["Autre"] * 76)
    assert len(purposes) == 4838
    lines = ["Référence;Date de la demande;Nom;Prénom;Date de naissance;Objet;"
             "Montant demandé;Date d'instruction;Date de décision;Décision;"
             "Montant accordé;Durée (mois)"]
    for i, purpose in enumerate(purposes):
        asked = date(2018, 1 + i % 11, 1 + i % 28)
        instructed = decided = decision = granted = months = ""
        rank = i * 7919 % 4838  # a permutation of the rows: outcomes spread over purposes
        if rank < 1914:  # instructed
            instructed = asked.replace(month=asked.month + 1).strftime("%d/%m/%Y")
            if rank < 559:  # granted in 2018; the other instructed files are undecided
                decided, decision, granted, months = (
                    asked.replace(month=asked.month + 1, day=28).strftime("%d/%m/%Y"),
                    "Accordé", "1 500,00", "24")
        lines.append(f"T18-{i:05d};{asked:%d/%m/%Y};Nom{i};Prénom;;{purpose};1 500,00;"
                     f"{instructed};{decided};{decision};{granted};{months}")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def test_the_seeds_2018_review_is_reproduced_from_an_imported_sheet(
        app, tenant, session, in_tenant):
    sheet = _toulouse_2018_sheet()
    result = do_import(session, tenant, in_tenant, sheet, "bilan-2018.csv")
    assert result.errors == [] and result.created == 4838
    with in_tenant(tenant):
        report = build_report(session, tenant, 2018)
    assert (report["requests"], report["instructions"], report["granted"]) == (4838, 1914, 559)
    assert {k: report["purposes"][k] for k in ("mobility", "housing", "debts", "training")} == {
        "mobility": 57.0, "housing": 18.5, "debts": 11.6, "training": 4.5}
    assert report["loans"]["amount_lent"] == Decimal("838500.00")  # 559 × 1,500 €
