"""``ccas loan schedule``: a repayment schedule from the command line (no database).

``--format json`` prints exactly one object (``core.loans.schedule_json``); ``table`` a
plain text table; ``csv`` one row per instalment. Bad input gives a clear message and
exit code 1.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from decimal import Decimal, InvalidOperation

import click

from .. import clock
from ..loans import (
    METHODS,
    LoanInputError,
    build_schedule,
    schedule_json,
    schedule_to_csv_rows,
    schedule_to_table,
)

MAX_CLI_AMOUNT = Decimal(1_000_000)
SHARES = {"borrower": Decimal(0), "city": Decimal(100)}


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", "."))
    except (InvalidOperation, AttributeError):
        raise click.ClickException(f"{what} : nombre attendu, reçu {text!r}.") from None
    if not value.is_finite():
        raise click.ClickException(f"{what} : nombre attendu, reçu {text!r}.")
    return value


@click.group("loan")
def loan():
    """Calculs de prêt (échéanciers, TAEG)."""


@loan.command("schedule")
@click.option("--amount", required=True, help="Montant prêté en euros, par ex. 3000 ou 1500,50.")
@click.option("--months", required=True, help="Nombre de mensualités (au moins 1).")
@click.option("--rate", required=True, help="Taux annuel en pourcentage, par ex. 3,04 (0 permis).")
@click.option("--method", type=click.Choice(METHODS), default="annuity", show_default=True)
@click.option("--start", default=None, help="Date du versement AAAA-MM-JJ (défaut : aujourd'hui).")
@click.option("--interest-paid-by", "paid_by", type=click.Choice(sorted(SHARES)),
              default="borrower", show_default=True, help="Qui paie les intérêts.")
@click.option("--format", "fmt", type=click.Choice(["json", "table", "csv"]), default="table",
              show_default=True)
def schedule(amount, months, rate, method, start, paid_by, fmt):
    """Afficher l'échéancier d'un prêt."""
    value = _decimal(amount, "Montant")
    if not Decimal(0) < value <= MAX_CLI_AMOUNT:
        raise click.ClickException("Montant : doit être supérieur à 0 et au plus 1 000 000 €.")
    if value != value.quantize(Decimal("0.01")):
        raise click.ClickException("Montant : deux décimales au plus.")
    try:
        count = int(str(months).strip())
    except ValueError:
        raise click.ClickException(f"Durée : nombre entier de mois attendu, reçu {months!r}.")\
            from None
    if count < 1:
        raise click.ClickException("Durée : au moins 1 mois.")
    annual = _decimal(rate, "Taux")
    if annual < 0:
        raise click.ClickException("Taux : ne peut pas être négatif.")
    try:
        start_date = date.fromisoformat(start) if start else clock.today()
    except ValueError:
        raise click.ClickException(f"Date de départ invalide : {start!r} (AAAA-MM-JJ).")\
            from None
    try:
        result = build_schedule(value, count, annual, start_date=start_date, method=method,
                                subsidy_share=SHARES[paid_by])
    except LoanInputError as exc:
        raise click.ClickException(f"Paramètre invalide ({exc.field}) : {exc.message}.")\
            from None
    if fmt == "json":
        click.echo(json.dumps(schedule_json(result), ensure_ascii=False, indent=2))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerows(schedule_to_csv_rows(result))
    else:
        click.echo(schedule_to_table(result), nl=False)
