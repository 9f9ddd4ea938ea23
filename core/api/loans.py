"""Loans in the API: ``GET /api/v1/loans/<id>`` and ``GET /api/v1/loans/<id>/schedule``.

The core has no loan table: the lender plugin the tenant enabled answers through the
``ccas_loan_details`` / ``ccas_loan_schedule`` hooks; no answer (unknown id, another
tenant's loan, plugin not enabled) is a 404. The schedule has the shape printed by
``ccas loan schedule --format json``. Readers: ``core.policy.LOAN_READERS``, the same
roles as the lender's loan pages.
"""

from __future__ import annotations

from flask import jsonify

from .. import audit
from ..db import db
from ..errors import NotFound
from ..policy import LOAN_READERS, allow
from . import bp


def _answer(hook_name: str, loan_id: str):
    from ..plugins import hooks

    data = getattr(hooks(), hook_name)(loan_id=loan_id, session=db.session)
    if data is None:
        raise NotFound("Ce prêt")
    audit.record(db.session, "loan.api.read", None, loan=str(loan_id), what=hook_name)
    db.session.commit()
    return jsonify(data)


@bp.route("/loans/<loan_id>")
@allow(*sorted(LOAN_READERS))
def loan_get(loan_id: str):
    """A loan: terms, status, key dates, outstanding principal, days past due.
    ---
    get:
      summary: One loan
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: loan_id, required: true, schema: {type: string, format: uuid}}
      responses:
        200:
          description: The loan (money as strings with two decimals).
        401:
          content:
            application/problem+json:
              schema: ProblemSchema
        404:
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    return _answer("ccas_loan_details", loan_id)


@bp.route("/loans/<loan_id>/schedule")
@allow(*sorted(LOAN_READERS))
def loan_schedule(loan_id: str):
    """The loan's schedule, same JSON as ``ccas loan schedule --format json``.
    ---
    get:
      summary: A loan's repayment schedule
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: loan_id, required: true, schema: {type: string, format: uuid}}
      responses:
        200:
          description: >-
            amount, months, annual_rate, method, installment, total_interest, total_cost,
            apr and installments (number, due_date, payment, principal, interest, balance,
            borrower_payment, subsidy).
        401:
          content:
            application/problem+json:
              schema: ProblemSchema
        404:
          content:
            application/problem+json:
              schema: ProblemSchema
    """
    return _answer("ccas_loan_schedule", loan_id)
