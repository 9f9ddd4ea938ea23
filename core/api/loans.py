"""Deprecated loan paths: ``GET /api/v1/loans/<id>`` and ``GET /api/v1/loans/<id>/schedule``.

The loan API belongs to the lender plugin, under ``/api/v1/p/<plugin>/loans/…`` (hook
``ccas_api_blueprints``). These old paths answer the same for one minor version (0.2),
through the ``ccas_loan_details`` / ``ccas_loan_schedule`` hooks, with the
``Deprecation`` (RFC 9745) and ``Sunset`` (RFC 8594) headers; they go in 0.3
(``CHANGELOG.md``). No answer (unknown id, another tenant's loan, plugin not enabled) is
a 404. Readers: ``core.policy.LOAN_READERS``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import jsonify

from .. import audit, plugins
from ..db import db
from ..errors import NotFound
from ..policy import LOAN_READERS, allow
from .auth import token_authenticated
from .blueprint import bp

#: When these paths were deprecated (the 0.2 release) and when they go (RFC 8594 date).
DEPRECATED_SINCE = datetime(2026, 12, 4, tzinfo=UTC)
SUNSET = "Wed, 30 Jun 2027 23:59:59 GMT"


def _answer(hook_name: str, loan_id: str):
    data = getattr(plugins.hooks(), hook_name)(loan_id=loan_id)
    if data is None:
        raise NotFound("Ce prêt")
    audit.record(db.session, "loan.api.read", None, loan=str(loan_id), what=hook_name)
    db.session.commit()
    response = jsonify(data)
    response.headers["Deprecation"] = f"@{int(DEPRECATED_SINCE.timestamp())}"
    response.headers["Sunset"] = SUNSET
    response.headers["Link"] = '</api/v1/docs>; rel="deprecation"'
    return response


@bp.route("/loans/<loan_id>")
@token_authenticated
@allow(LOAN_READERS)
def loan_get(loan_id: str):
    """A loan: terms, status, key dates, outstanding principal, days past due.
    ---
    get:
      summary: One loan (deprecated, use the lender plugin's /api/v1/p/…/loans/{loan_id})
      deprecated: true
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
@token_authenticated
@allow(LOAN_READERS)
def loan_schedule(loan_id: str):
    """The loan's schedule, same JSON as ``ccas loan schedule --format json``.
    ---
    get:
      summary: A loan's repayment schedule (deprecated, use the lender plugin's path)
      deprecated: true
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
