"""The loan's documents as PDF (fpdf2), in French: the loan offer with the standard
pre-contract information, and the social accompaniment contract.

Fonts: fpdf2's 14 core fonts only know Latin-1 (no ``€``, no narrow no-break space), so
the documents embed a Unicode TrueType font: DejaVu Sans (Debian's ``fonts-dejavu-core``)
or Liberation Sans, looked up in the usual places and in ``CCAS_PDF_FONT_DIR``. When none
is found the core font Helvetica is used and the text is reduced to Latin-1 (``€`` →
``EUR``), so a document is always produced.

The functions take data (:class:`LoanDocumentData`) and return bytes: no session here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF

from core.plugin_api import format_money, round_apr

FONT_CANDIDATES = (
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
)
FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/truetype/liberation",
    "/usr/share/fonts/liberation",
    "/usr/local/share/fonts",
    "/Library/Fonts",
)


def find_unicode_font() -> tuple[Path, Path] | None:
    """(regular, bold) TrueType files of a Unicode font, or ``None``."""
    dirs = [os.environ.get("CCAS_PDF_FONT_DIR", ""), *FONT_DIRS]
    for regular, bold in FONT_CANDIDATES:
        for folder in filter(None, dirs):
            r, b = Path(folder) / regular, Path(folder) / bold
            if r.is_file():
                return r, (b if b.is_file() else r)
    return None


def money(value: Decimal) -> str:
    return format_money(value)


def day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "…"


def percent(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",") + " %"


@dataclass(frozen=True)
class LoanDocumentData:
    tenant_name: str
    city: str
    case_reference: str
    loan_reference: str
    borrower_name: str
    borrower_address: str
    purpose_label: str
    amount: Decimal
    months: int
    annual_rate: Decimal
    method: str
    subsidy_share: Decimal
    decided_on: date
    offer_valid_until: date
    schedule: object  # the schedule build_schedule returns
    social_worker_name: str = ""
    signed_on: date | None = None
    #: The co-borrower's name, when the case has one (both borrowers sign).
    co_borrower_name: str = ""


class _Document(FPDF):
    def __init__(self, title: str):
        super().__init__(format="A4")
        self.doc_title = title
        font = find_unicode_font()
        self.unicode = font is not None
        if font:
            self.add_font("Doc", "", str(font[0]))
            self.add_font("Doc", "B", str(font[1]))
            self.family_name = "Doc"
        else:
            self.family_name = "Helvetica"
        self.set_title(title)
        self.set_lang("fr")
        self.set_creator("ccas-network")
        self.set_auto_page_break(True, margin=18)
        self.add_page()

    def clean(self, text: str) -> str:
        if self.unicode:
            return text
        text = text.replace("€", "EUR").replace("\u202f", " ").replace("\u00a0", " ")
        return text.replace("’", "'").replace("…", "...").replace("–", "-").replace("œ", "oe")\
            .encode("latin-1", "replace").decode("latin-1")

    def footer(self):
        self.set_y(-12)
        self.set_font(self.family_name, "", 8)
        self.cell(0, 6, self.clean(f"{self.doc_title} – page {self.page_no()}/{{nb}}"),
                  align="C")

    def h1(self, text: str):
        self.set_font(self.family_name, "B", 15)
        self.multi_cell(0, 8, self.clean(text), align="L")
        self.ln(2)

    def h2(self, text: str):
        self.ln(2)
        self.set_font(self.family_name, "B", 11)
        self.multi_cell(0, 6, self.clean(text), align="L")
        self.ln(1)

    def para(self, text: str, size: int = 10):
        self.set_font(self.family_name, "", size)
        self.multi_cell(0, 5, self.clean(text), align="L")
        self.ln(1)

    def facts(self, rows: list[tuple[str, str]]):
        self.set_font(self.family_name, "", 10)
        with self.table(col_widths=(70, 110), text_align=("LEFT", "LEFT"),
                        first_row_as_headings=False) as table:
            for label, value in rows:
                row = table.row()
                row.cell(self.clean(label))
                row.cell(self.clean(value))
        self.ln(2)

    def schedule_table(self, rows):
        """The amortisation table of ``rows`` (instalments with the schedule's fields)."""
        self.set_font(self.family_name, "", 7.5)
        headings = ("N°", "Échéance", "Mensualité", "Capital", "Intérêts", "Part Ville",
                    "À votre charge", "Capital restant dû")
        with self.table(col_widths=(8, 20, 22, 22, 20, 20, 24, 26),
                        text_align=("RIGHT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT",
                                    "RIGHT", "RIGHT")) as table:
            head = table.row()
            for text in headings:
                head.cell(self.clean(text))
            for row in rows:
                line = table.row()
                for text in (str(row.number), day(row.due_date), money(row.payment),
                             money(row.principal), money(row.interest), money(row.subsidy),
                             money(row.borrower_payment), money(row.balance)):
                    line.cell(self.clean(text))

    def signatures(self, parties: list[str]):
        self.h2("Signatures")
        self.set_font(self.family_name, "", 10)
        with self.table(first_row_as_headings=True, line_height=7) as table:
            head = table.row()
            for party in parties:
                head.cell(self.clean(party))
            for label in ("Date :", "Signature :\n\n\n"):
                row = table.row()
                for _ in parties:
                    row.cell(self.clean(label))


def offer_pdf(data: LoanDocumentData) -> bytes:
    """The loan offer with the standard pre-contract information (FIPEN)."""
    s = data.schedule
    pdf = _Document(f"Offre de prêt {data.loan_reference}")
    pdf.h1("Offre de prêt – Microcrédit personnel accompagné")
    pdf.para(f"Prêteur : Crédit Municipal. Accompagnement social : {data.tenant_name}. "
             f"Dossier {data.case_reference}, prêt {data.loan_reference}.")
    pdf.para(f"Emprunteur : {data.borrower_name}"
             + (f", {data.borrower_address}" if data.borrower_address else "") + ".")
    if data.co_borrower_name:
        pdf.para(f"Co-emprunteur : {data.co_borrower_name}, tenu solidairement avec "
                 "l'emprunteur.")
    pdf.h2("Conditions du crédit")
    pdf.para("La fiche d'informations précontractuelles européennes normalisées (FIPEN) vous "
             "a été remise avant la présente offre.", size=9)
    total_due = s.total_borrower_payments
    method = "échéances constantes" if data.method == "annuity" else "amortissement constant"
    pdf.facts([
        ("Type de crédit", f"Prêt personnel à taux fixe ({method})"),
        ("Objet du prêt", data.purpose_label),
        ("Montant du crédit", money(data.amount)),
        ("Durée", f"{data.months} mois ({data.months} échéances mensuelles)"),
        ("Mensualité (capital et intérêts)", money(s.installment)),
        ("Dont à la charge de l'emprunteur",
         f"{money(s.installments[0].borrower_payment)} (1re échéance), "
         f"{money(s.installments[-1].borrower_payment)} (dernière)"),
        ("Taux débiteur annuel fixe", percent(data.annual_rate)),
        ("Intérêts pris en charge par la Ville", percent(data.subsidy_share)),
        ("TAEG (taux annuel effectif global)", percent(round_apr(s.apr))),
        ("Coût total du crédit", money(s.total_cost)),
        ("Montant total dû par l'emprunteur", money(total_due)),
        ("Frais de dossier", money(s.fees)),
    ])
    pdf.para("Un crédit vous engage et doit être remboursé. Vérifiez vos capacités de "
             "remboursement avant de vous engager.", size=9)
    pdf.h2("Durée de validité de l'offre")
    pdf.para(f"Offre émise le {day(data.decided_on)}. Elle est maintenue pendant 15 jours, "
             f"jusqu'au {day(data.offer_valid_until)} inclus.")
    pdf.h2("Droit de rétractation")
    pdf.para("Vous disposez d'un délai de 14 jours calendaires à compter de la signature de "
             "l'offre pour renoncer au crédit, sans avoir à donner de motif, en renvoyant le "
             "bordereau de rétractation détachable joint à la présente offre (dernière page) "
             "au Crédit Municipal. Aucun décaissement n'a lieu avant la fin de ce délai.")
    pdf.h2("Tableau d'amortissement (indicatif)")
    pdf.para("Les dates d'échéance définitives sont fixées à la date du décaissement.", size=9)
    pdf.schedule_table(s.installments)
    pdf.ln(2)
    pdf.signatures(["L'emprunteur", *(["Le co-emprunteur"] if data.co_borrower_name else []),
                    "Le Crédit Municipal", f"Le CCAS ({data.tenant_name})"])
    withdrawal_slip(pdf, data)
    return bytes(pdf.output())


def withdrawal_slip(pdf: _Document, data: LoanDocumentData) -> None:
    """The detachable withdrawal form (bordereau de rétractation), alone on the offer's
    last page under a cut line, filled with the loan's identity."""
    pdf.add_page()
    pdf.para("Si vous souhaitez renoncer au crédit, complétez, signez et envoyez ce "
             "bordereau au Crédit Municipal dans les 14 jours calendaires suivant la "
             "signature de l'offre (lettre recommandée avec avis de réception conseillée).",
             size=9)
    pdf.set_font(pdf.family_name, "", 9)
    pdf.cell(0, 6, pdf.clean("- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - "
                             "- - - - - -  découper ici  - - - - - - - - - - - - - - - - - - "
                             "- - - - - - - - -"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.h1("Bordereau de rétractation")
    pdf.para("À envoyer au Crédit Municipal, service du microcrédit personnel accompagné"
             + (f" (partenaire du {data.tenant_name})" if data.tenant_name else "") + ".")
    pdf.facts([
        ("Offre de prêt", f"n° {data.loan_reference} (dossier {data.case_reference})"),
        ("Montant du crédit", money(data.amount)),
        ("Date d'émission de l'offre", day(data.decided_on)),
        ("Emprunteur", data.borrower_name),
    ])
    pdf.para("Je soussigné(e) ………………………………………………, demeurant "
             "………………………………………………………………, déclare renoncer à l'offre de crédit "
             f"de {money(data.amount)} ci-dessus, que j'avais acceptée le ………………………… .")
    pdf.ln(2)
    pdf.para("Date : ……………………………          Signature de l'emprunteur :")
    pdf.ln(12)


def fipen_pdf(data: LoanDocumentData) -> bytes:
    """The standard pre-contract information sheet (FIPEN), its own document given to the
    borrower before the offer: lender, credit, cost, legal aspects (sections 1 to 4 of
    the standard form), on the terms the lender proposes."""
    s = data.schedule
    method = "échéances constantes" if data.method == "annuity" else "amortissement constant"
    pdf = _Document(f"FIPEN {data.case_reference}")
    pdf.h1("Fiche d'informations précontractuelles européennes normalisées en matière de "
           "crédit aux consommateurs (FIPEN)")
    pdf.para(f"Remise à {data.borrower_name} le {day(data.decided_on)}, avant l'offre de "
             f"prêt. Dossier {data.case_reference}. Ces informations sont valables 15 jours.",
             size=9)
    pdf.h2("1. Identité et coordonnées du prêteur")
    pdf.facts([("Prêteur", "Crédit Municipal"),
               ("Intermédiaire et accompagnement social", data.tenant_name)])
    pdf.h2("2. Description des principales caractéristiques du crédit")
    pdf.facts([
        ("Type de crédit", f"Microcrédit personnel accompagné, prêt personnel à taux fixe "
                           f"({method})"),
        ("Objet", data.purpose_label),
        ("Montant total du crédit", money(data.amount)),
        ("Conditions de mise à disposition des fonds",
         "En une fois, après le délai de rétractation de 14 jours calendaires"),
        ("Durée du contrat de crédit", f"{data.months} mois"),
        ("Échéances", f"{data.months} mensualités de {money(s.installment)} (capital et "
                      f"intérêts), dont à votre charge {money(s.installments[0].borrower_payment)}"
                      f" la première"),
        ("Montant total dû", money(s.total_borrower_payments)),
    ])
    pdf.h2("3. Coût du crédit")
    pdf.facts([
        ("Taux débiteur", f"{percent(data.annual_rate)} fixe"),
        ("Intérêts pris en charge par la Ville", percent(data.subsidy_share)),
        ("Taux annuel effectif global (TAEG)", percent(round_apr(s.apr))),
        ("Coût total du crédit", money(s.total_cost)),
        ("Frais", f"{money(s.fees)} ; aucune assurance exigée ; aucune sûreté demandée à "
                  f"l'emprunteur"),
        ("Frais en cas de retard de paiement",
         "Aucun frais ; le CCAS vous contacte dès la première échéance impayée"),
    ])
    pdf.para("Le TAEG est le coût total du crédit exprimé en pourcentage annuel du montant "
             "total du crédit ; il vous aide à comparer les offres.", size=9)
    pdf.h2("4. Autres aspects juridiques importants")
    pdf.facts([
        ("Droit de rétractation", "Oui : 14 jours calendaires après la signature de l'offre"),
        ("Remboursement anticipé", "Possible à tout moment, en tout ou partie, sans "
                                   "indemnité ; intérêts dus jusqu'au jour du remboursement"),
        ("Consultation d'un fichier",
         "Le prêteur consulte le fichier national des incidents de remboursement des "
         "crédits aux particuliers (FICP) de la Banque de France"),
        ("Droit à un projet de contrat", "Vous pouvez obtenir gratuitement un exemplaire du "
                                         "projet de contrat de crédit"),
    ])
    pdf.para("Un crédit vous engage et doit être remboursé. Vérifiez vos capacités de "
             "remboursement avant de vous engager.", size=9)
    return bytes(pdf.output())


def accompaniment_contract_pdf(data: LoanDocumentData) -> bytes:
    """The social accompaniment contract, for the whole duration of the loan."""
    s = data.schedule
    first, last = s.installments[0].due_date, s.installments[-1].due_date
    pdf = _Document(f"Contrat d'accompagnement {data.case_reference}")
    pdf.h1("Contrat d'accompagnement social – Microcrédit personnel")
    pdf.para(f"Entre {data.tenant_name} (CCAS), représenté par "
             f"{data.social_worker_name or 'le travailleur social référent'}, et "
             f"{data.borrower_name}"
             + (f" et {data.co_borrower_name} (co-emprunteur)" if data.co_borrower_name
                else "")
             + (", bénéficiaires" if data.co_borrower_name else ", bénéficiaire")
             + " d'un microcrédit personnel accordé par le "
             f"Crédit Municipal (prêt {data.loan_reference}, dossier {data.case_reference}).")
    pdf.h2("Objet")
    pdf.para(f"Le prêt de {money(data.amount)} finance le projet suivant : "
             f"{data.purpose_label}. L'accompagnement vise la réussite du projet et le bon "
             f"déroulement du remboursement.")
    pdf.h2("Durée")
    pdf.para(f"Le présent contrat court pendant toute la durée du prêt, soit {data.months} "
             f"mois : de la signature jusqu'à la dernière échéance (prévue le {day(last)}, "
             f"première échéance le {day(first)}).")
    pdf.h2("Engagements du CCAS")
    pdf.para("- proposer des rendez-vous de suivi avec le travailleur social référent ;\n"
             "- aider à tenir le budget et proposer les ateliers budgétaires collectifs ;\n"
             "- prendre contact avec l'emprunteur dès la première échéance impayée, pour "
             "chercher une solution avant tout incident ;\n"
             "- orienter vers les aides et les partenaires adaptés si la situation change.")
    pdf.h2("Engagements de l'emprunteur")
    pdf.para("- se rendre aux rendez-vous de suivi ou prévenir en cas d'empêchement ;\n"
             "- informer le CCAS de tout changement de situation (ressources, emploi, "
             "logement) ;\n"
             "- signaler au plus tôt toute difficulté à régler une échéance.")
    pdf.h2("Données personnelles")
    pdf.para("Les informations recueillies servent au suivi du prêt et de l'accompagnement. "
             "Elles sont conservées pendant la durée du prêt puis selon les règles de "
             "conservation du CCAS ; vous pouvez y accéder et en demander la rectification "
             "auprès du CCAS.")
    pdf.signatures(["L'emprunteur", *(["Le co-emprunteur"] if data.co_borrower_name else []),
                    f"Le CCAS ({data.tenant_name})"])
    return bytes(pdf.output())


@dataclass(frozen=True)
class RiderData:
    """What the rider (avenant) of a rescheduling says."""

    tenant_name: str
    loan_reference: str
    case_reference: str
    borrower_name: str
    version: int
    agreed_on: date
    holiday_months: int
    months: int
    overdue_months: int
    outstanding: Decimal
    annual_rate: Decimal
    subsidy_share: Decimal
    apr: Decimal
    installment: Decimal
    last_due_date: date
    opinion_label: str
    rows: tuple = ()


def rider_pdf(data: RiderData) -> bytes:
    """The rider to the loan offer after a rescheduling, to be signed by the borrower,
    the Crédit Municipal and the CCAS: new terms, APR, new amortisation table."""
    pdf = _Document(f"Avenant {data.version - 1} au prêt {data.loan_reference}")
    pdf.h1(f"Avenant n° {data.version - 1} au contrat de prêt {data.loan_reference}")
    pdf.para(f"Entre le Crédit Municipal, {data.borrower_name} (emprunteur) et "
             f"{data.tenant_name} (CCAS, accompagnement social), dossier "
             f"{data.case_reference}.")
    pdf.h2("Réaménagement convenu")
    holiday = (f"{data.holiday_months} mois" if data.holiday_months
               else "aucun")
    pdf.facts([
        ("Date de l'accord", day(data.agreed_on)),
        ("Capital restant dû réaménagé", money(data.outstanding)),
        ("Échéances impayées reprises", f"{data.overdue_months} (intérêts seuls)"),
        ("Report d'échéances", holiday),
        ("Nouvelle durée d'amortissement", f"{data.months} mois"),
        ("Nouvelle mensualité (capital et intérêts)", money(data.installment)),
        ("Dernière échéance", day(data.last_due_date)),
        ("Taux débiteur annuel fixe (inchangé)", percent(data.annual_rate)),
        ("Intérêts pris en charge par la Ville", percent(data.subsidy_share)),
        ("TAEG recalculé", percent(data.apr)),
        ("Avis du travailleur social", data.opinion_label),
    ])
    pdf.para("Pendant le report, seuls les intérêts sont dus (la part prise en charge par la "
             "Ville est réglée par elle) ; le capital n'est pas augmenté des intérêts. Les "
             "autres clauses du contrat de prêt restent inchangées. L'échéancier ci-dessous "
             "remplace celui du contrat à partir de l'échéance n° "
             f"{data.rows[0].number if data.rows else '…'}.")
    pdf.h2("Nouvel échéancier")
    pdf.schedule_table(data.rows)
    pdf.ln(2)
    pdf.signatures(["L'emprunteur", "Le Crédit Municipal", f"Le CCAS ({data.tenant_name})"])
    return bytes(pdf.output())
