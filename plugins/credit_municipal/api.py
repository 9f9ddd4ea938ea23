"""The lender's JSON API, mounted by the core under ``/api/v1/p/credit_municipal/`` (hook
``ccas_api_blueprints``): the core authenticates the bearer token (the tenant comes from
it) and answers 404 for a tenant that has not enabled the plugin.

* ``GET /api/v1/p/credit_municipal/loans/<id>``: terms, status, key dates, outstanding
  principal, days past due (no personal data beyond the case reference);
* ``GET /api/v1/p/credit_municipal/loans/<id>/schedule``: the schedule, the same JSON as
  ``ccas loan schedule --format json``.

Readers: ``LOAN_READERS``, the same roles as the loan pages. Every read is audited. The
old paths ``/api/v1/loans/…`` answer the same for one minor version, with ``Deprecation``
and ``Sunset`` headers.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from core.plugin_api import (
    LOAN_READERS,
    UserError,
    allow,
    db_session,
    record_audit,
    token_authenticated,
)

from . import loans as service

api = Blueprint("credit_municipal_api", __name__)


def _answer(data, loan_id: str, what: str):
    if data is None:
        raise UserError("Ce prêt est introuvable.", status=404,
                        message_en="No such loan for this tenant.")
    record_audit(db_session(), "loan.api.read", None, loan=str(loan_id), what=what)
    db_session().commit()
    return jsonify(data)


@api.route("/loans/<loan_id>")
@token_authenticated
@allow(LOAN_READERS)
def loan(loan_id: str):
    """A loan: terms, status, key dates, outstanding principal, days past due.
    ---
    get:
      summary: One loan (Crédit Municipal)
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
    return _answer(service.api_details(db_session(), loan_id), loan_id, "details")


@api.route("/loans/<loan_id>/schedule")
@token_authenticated
@allow(LOAN_READERS)
def loan_schedule(loan_id: str):
    """The loan's schedule, the same JSON as ``ccas loan schedule --format json``.
    ---
    get:
      summary: A loan's repayment schedule (Crédit Municipal)
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
    return _answer(service.api_schedule(db_session(), loan_id), loan_id, "schedule")
