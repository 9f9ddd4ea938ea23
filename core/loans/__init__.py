"""Pure loan arithmetic for accompanied personal microcredit.

Decimal money, exact to the cent, no I/O: repayment schedules (annuity or linear), the
share of interest paid by a subsidiser, the APR (TAEG) and serialisations of a schedule.
"""

from .apr import annual_percentage_rate, effective_annual_rate, round_apr
from .reschedule import MAX_HOLIDAY_MONTHS, Rescheduling, months_for_installment, reschedule
from .schedule import (
    MAX_AMOUNT,
    MAX_MONTHS,
    METHODS,
    Installment,
    LoanInputError,
    Schedule,
    add_months,
    annuity_installment,
    build_schedule,
    due_dates,
    remaining_schedule,
    validate_loan_inputs,
)
from .serialize import (
    format_money,
    schedule_json,
    schedule_to_csv_rows,
    schedule_to_dict,
    schedule_to_table,
)
from .subsidy import subsidy_amount, subsidy_cents

__all__ = [
    "MAX_AMOUNT",
    "MAX_HOLIDAY_MONTHS",
    "MAX_MONTHS",
    "METHODS",
    "Installment",
    "LoanInputError",
    "Rescheduling",
    "Schedule",
    "add_months",
    "annual_percentage_rate",
    "annuity_installment",
    "build_schedule",
    "due_dates",
    "effective_annual_rate",
    "format_money",
    "months_for_installment",
    "remaining_schedule",
    "reschedule",
    "round_apr",
    "schedule_json",
    "schedule_to_csv_rows",
    "schedule_to_dict",
    "schedule_to_table",
    "subsidy_amount",
    "subsidy_cents",
    "validate_loan_inputs",
]
