"""Validating the rows of a legacy spreadsheet: each row becomes an :class:`ImportRow`
or a list of :class:`RowError` (line number, column at fault, French message)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from . import columns as col

#: Where each decision leads (the transition recorded on the decision date).
DECISION_STATES = {"granted": "granted", "refused": "refused", "adjourned": "adjourned"}


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"colonne {self.column}" if self.column else "ligne entière"
        return f"Ligne {self.line}, {where} : {self.message}."


@dataclass
class ImportRow:
    """A valid row, with what the case and its history will be."""

    line: int
    reference: str | None
    intake_date: date
    last_name: str
    first_name: str
    birth_date: date | None
    purpose: str
    amount_requested: Decimal
    employment: str | None = None
    orientation: str | None = None
    instruction_date: date | None = None
    decision_date: date | None = None
    decision: str | None = None
    amount_granted: Decimal | None = None
    months: int | None = None
    import_key: str = ""
    case_reference: str = ""
    #: set when the database already holds this row's case (a re-import)
    already: bool = False

    @property
    def state(self) -> str:
        """The state the row's dates and decision imply."""
        if self.orientation:
            return "reoriented"
        if self.decision:
            return DECISION_STATES[self.decision]
        if self.instruction_date:
            return "instruction"
        return "intake"

    def history(self) -> list[tuple[str | None, str, date, dict]]:
        """``(from, to, day, data)`` of each transition, in order."""
        steps: list[tuple[str | None, str, date, dict]] = [(None, "intake", self.intake_date, {})]
        if self.orientation:
            steps.append(("intake", "reoriented", self.intake_date,
                          {"destination": self.orientation}))
            return steps
        if self.instruction_date:
            steps.append(("intake", "instruction", self.instruction_date, {}))
            if self.decision:
                # the sheet has no submission date: the file went to the lender when it
                # was instructed
                steps.append(("instruction", "submitted_to_lender", self.instruction_date, {}))
                data = {}
                if self.decision == "granted":
                    data = {"amount_granted": f"{self.amount_granted:.2f}",
                            "months": self.months}
                steps.append(("submitted_to_lender", DECISION_STATES[self.decision],
                              self.decision_date, data))
        return steps


def content_key(values: dict) -> str:
    """``sha256:<hex>`` of the row's meaning (normalised values, not their spelling)."""
    parts = []
    for name in col.COLUMNS:
        value = values.get(name)
        if isinstance(value, str):
            value = col.normalise(value)
        parts.append("" if value is None else str(value))
    return "sha256:" + hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def validate_row(line: int, cells: list, index: dict[str, int], today: date,
                 destinations: dict[str, str] | None = None) -> tuple[ImportRow | None,
                                                                      list[RowError]]:
    """Parse and check one row; every problem of the row is reported."""
    errors: list[RowError] = []
    raw = {name: (cells[i] if i < len(cells) else None) for name, i in index.items()}
    values: dict = {}

    def read(name: str, parser, *args):
        try:
            values[name] = parser(raw.get(name), *args)
        except col.ValueProblem as problem:
            values[name] = None
            errors.append(RowError(line, name, str(problem)))
            return False
        return True

    read("reference", col.text, 40)
    read("nom", col.text, 100)
    read("prenom", col.text, 100)
    for name in ("date_demande", "date_naissance", "date_instruction", "date_decision"):
        read(name, col.parse_date)
    read("objet", col.parse_purpose)
    read("montant_demande", col.parse_amount)
    read("montant_accorde", col.parse_amount)
    read("situation_professionnelle", col.parse_employment)
    read("decision", col.parse_decision)
    read("duree_mois", col.parse_months)
    values["orientation"] = col.destination_code(raw.get("orientation"), destinations)
    bad = {e.column for e in errors}

    def need(name: str, message: str) -> None:
        if values.get(name) in (None, "") and name not in bad:
            errors.append(RowError(line, name, message))
            bad.add(name)

    need("date_demande", "date de la demande manquante")
    need("nom", "nom manquant")
    need("objet", "objet manquant")
    need("montant_demande", "montant demandé manquant")

    asked = values.get("date_demande")
    for name in ("date_demande", "date_instruction", "date_decision", "date_naissance"):
        day = values.get(name)
        if day is not None and day > today:
            errors.append(RowError(line, name, f"date dans le futur ({day:%d/%m/%Y})"))
            bad.add(name)
    born = values.get("date_naissance")
    if born is not None and asked is not None and born >= asked:
        errors.append(RowError(line, "date_naissance",
                               "date de naissance postérieure à la demande"))
    instructed, decided = values.get("date_instruction"), values.get("date_decision")
    if instructed and asked and instructed < asked:
        errors.append(RowError(line, "date_instruction", "instruction avant la demande"))
    if decided and instructed and decided < instructed:
        errors.append(RowError(line, "date_decision", "décision avant l'instruction"))
    decision = values.get("decision")
    if values.get("orientation") and (instructed or decision):
        errors.append(RowError(line, "orientation",
                               "une demande réorientée ne peut pas être instruite ni décidée"))
    if decision:
        need("date_decision", "date de la décision manquante pour une décision")
        need("date_instruction", "date d'instruction manquante pour une décision")
    elif decided and "decision" not in bad:
        errors.append(RowError(line, "decision", "date de décision sans décision"))
    if decision == "granted":
        need("montant_accorde", "montant accordé manquant pour un prêt accordé")
        need("duree_mois", "durée manquante pour un prêt accordé")
    elif "decision" not in bad:
        for name in ("montant_accorde", "duree_mois"):
            if values.get(name) is not None:
                errors.append(RowError(line, name, "renseigné alors que le prêt n'est pas "
                                                   "accordé"))
    if errors:
        return None, errors

    reference = values["reference"] or None
    key = f"ref:{reference}" if reference else content_key(values)
    row = ImportRow(
        line=line, reference=reference, intake_date=asked, last_name=values["nom"],
        first_name=values["prenom"] or "", birth_date=born, purpose=values["objet"],
        amount_requested=values["montant_demande"],
        employment=values["situation_professionnelle"], orientation=values["orientation"],
        instruction_date=instructed, decision_date=decided, decision=decision,
        amount_granted=values["montant_accorde"], months=values["duree_mois"],
        import_key=key,
        case_reference=reference or "IMP-" + key.split(":", 1)[1][:16].upper(),
    )
    return row, []
