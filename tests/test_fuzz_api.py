"""Fuzzing the API with schemathesis, from the OpenAPI document the application serves
(``/api/v1/openapi.json``): every operation, valid and invalid data, with a bearer token
of every role, every check schemathesis has (server errors, status codes, content types,
headers, response schemas, invalid data refused, valid data accepted, authentication not
ignored, ``Allow`` on 405…), and the ids of real objects of the tenant (cases, referrals,
loans) so that every operation is reached, not only its 404. New endpoints are picked up
from the document.

CI runs a bounded pass (``CCAS_FUZZ_EXAMPLES``, 12 by default: about 1,900 cases); the
long run of docs/security.md sets it higher (``CCAS_FUZZ_EXAMPLES=100``: over 15,000 cases).
The figures (cases, failures by check) are printed at the end.
"""

from __future__ import annotations

import contextvars
import os
import uuid
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from schemathesis.core.errors import SchemathesisError

MAX_EXAMPLES = int(os.environ.get("CCAS_FUZZ_EXAMPLES", "12"))
#: ``CCAS_FUZZ_ONLY=documents,household``: fuzz only the operations whose label holds one
#: of the words (a targeted run while working on them; CI runs them all).
ONLY = [w for w in os.environ.get("CCAS_FUZZ_ONLY", "").split(",") if w]
ROLES = ("manager", "secretary", "social_worker", "referrer", "lender_agent", "funder")
#: Every check of schemathesis that applies to stateless calls.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection,
          positive_data_acceptance, missing_required_header, unsupported_method, ignored_auth,
          allow_header_conformance]


@pytest.fixture
def app_config(app_config):
    # Do not let the API limit of one token cut the fuzzing short.
    return {**app_config, "CCAS_API_LIMIT": "1000000 per minute"}


#: Operations whose valid-by-schema input may still break a rule the document cannot
#: express (a lender's bounds, a possible duplicate, a move not allowed from the case's
#: state, a referral already answered or not yet accepted, an opaque pagination cursor only
#: the API makes):
#: for them a 400, 422 or 409 problem is an accepted answer to positive data, provided it
#: is a problem+json naming the rule.
BUSINESS_RULES = {"POST /api/v1/cases", "POST /api/v1/cases/{case_id}/transitions",
                  "POST /api/v1/referrals", "POST /api/v1/referrals/{referral_id}/decision",
                  "POST /api/v1/referrals/{referral_id}/follow-up", "GET /api/v1/referrals",
                  # the applicant's file: a file's content is sniffed (PDF, JPEG, PNG), a
                  # closed case takes no document, a child needs a birth date, a
                  # co-borrower is an adult of the household and co-borrows until the
                  # submission, a synthesis needs a change
                  "POST /api/v1/cases/{case_id}/documents",
                  "DELETE /api/v1/cases/{case_id}/documents/{file_id}",
                  "POST /api/v1/cases/{case_id}/household/members",
                  "PATCH /api/v1/cases/{case_id}/household/members/{member_id}",
                  "DELETE /api/v1/cases/{case_id}/household/members/{member_id}",
                  "PUT /api/v1/cases/{case_id}/co-borrower",
                  "POST /api/v1/cases/{case_id}/synthesis"}


def business_refusal_is_a_problem(ctx, response, case):
    """Replaces ``positive_data_acceptance`` on :data:`BUSINESS_RULES`: a refusal of valid
    data is a 409/422 problem+json with a French ``detail`` (or the 400 of a string the
    database cannot store), anything else a 2xx/3xx or an authorization answer."""
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return None  # invalid data: negative_data_rejection judges it
    if response.status_code in (400, 409, 422):  # 400: a NUL or lone surrogate in a string
        body = response.json()
        headers = {k.lower(): v for k, v in response.headers.items()}
        assert "application/problem+json" in str(headers.get("content-type")), headers
        assert body.get("detail") and body.get("type", "").startswith("/api/v1/problems/"), (
            body)
        return True
    assert response.status_code < 400 or response.status_code in (401, 403, 404, 429), (
        response.status_code)
    return True


def isolated(app):
    """Each request in its own context (own app context, session, tenant), like a real
    server: schemathesis' WSGI client would otherwise share the test's context."""

    def wsgi(environ, start_response):
        return contextvars.Context().run(lambda: list(app(environ, start_response)))

    return wsgi


@pytest.fixture
def known_ids(session, tenant, in_tenant, users, enable_plugin, client, api_token):
    """Real ids of the tenant for path parameters: a case, a referral, a loan."""
    from plugins.credit_municipal.tests.loan_helpers import disbursed_loan

    enable_plugin(tenant, "credit_municipal")
    loan = disbursed_loan(session, tenant, in_tenant, users, disbursed_days_ago=40)
    token = api_token(users["referrer"])
    body = {"person": {"first_name": "Léa", "last_name": "Martin", "birth_date": "1990-04-02",
                       "phone": "0600000000", "email": "lea@example.test"},
            "purpose": "mobility", "amount_requested": "1500.00", "note": "Permis",
            "consent": True}
    referral = client.post("/api/v1/referrals", json=body, headers={
        "Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}).get_json()
    with in_tenant(tenant):
        case_id = str(loan.case_id)
        file_id, member_id = _file_and_member(session, tenant, loan.case_id, users)
    return {"loan_id": str(loan.id), "case_id": case_id, "referral_id": referral["id"],
            "file_id": file_id, "member_id": member_id}


def _file_and_member(session, tenant, case_id, users) -> tuple[str, str]:
    """A stored document and a household member of the loan's case (path samples)."""
    from core.cases import household
    from core.features import stored_documents
    from core.models import Case

    case = session.get(Case, (tenant.id, case_id))
    doc = stored_documents.attach(session, tenant, case, kind="other",
                                  data=b"%PDF-1.4\n%fuzz\n", filename="piece.pdf",
                                  actor=users["secretary"])
    member = household.add_member(session, case.person, {
        "first_name": "Lou", "relationship": "partner", "birth_date": "1988-02-03"},
        users["secretary"], tenant)
    session.commit()
    return str(doc.id), str(member.id)


def _with_known_ids(case, ids: dict, pick: int) -> None:
    """Every other generated case names real objects (the rest stay random: 404s)."""
    if pick % 2 or not case.path_parameters or case.meta is None or (
            getattr(case.meta.generation, "mode", None) != GenerationMode.POSITIVE):
        return
    for name in case.path_parameters:
        if name in ids:
            case.path_parameters[name] = ids[name]


def _check_names(exc: BaseException) -> list[str]:
    if isinstance(exc, BaseExceptionGroup):
        return [name for sub in exc.exceptions for name in _check_names(sub)]
    return [type(exc).__name__]


def test_api_fuzzing_passes_every_check_for_every_role(app, users, api_token, known_ids):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", isolated(app))
    tokens = {role: api_token(users[role]) for role in ROLES}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the OpenAPI document lists no operation"
    if ONLY:  # a targeted run: the operations whose label holds one of the words
        operations = [op for op in operations if any(w in op.label for w in ONLY)]
    failures: list[str] = []
    by_check: Counter = Counter()
    calls = {"n": 0}
    statuses: Counter = Counter()

    def fuzz(operation, mode, headers):
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            calls["n"] += 1
            _with_known_ids(case, known_ids, calls["n"])
            checks = CHECKS
            if operation.label in BUSINESS_RULES:
                checks = [c for c in CHECKS if c is not positive_data_acceptance]
                checks.append(business_refusal_is_a_problem)
            response = case.call_and_validate(headers=headers, checks=checks)
            statuses[(operation.label, response.status_code)] += 1

        run()

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for role, token in tokens.items():
                try:
                    fuzz(operation, mode, {"Authorization": f"Bearer {token}"})
                except (AssertionError, BaseExceptionGroup) as exc:  # a check failed
                    names = _check_names(exc)
                    by_check.update(names)
                    failures.append(f"{operation.label} [{mode.value}, {role}] {names}: "
                                    f"{str(exc)[:1200]}")
                except SchemathesisError as exc:  # the document itself is unusable
                    failures.append(f"{operation.label}: invalid OpenAPI description: "
                                    f"{str(exc)[:1500]}")
                    break
    reached = {label for (label, status) in statuses if status < 400}
    print(f"\nschemathesis: {len(operations)} operations, {len(ROLES)} roles, "
          f"{calls['n']} cases, {len(CHECKS)} checks, {len(failures)} failing series, "
          f"by check: {dict(by_check)}; operations answered 2xx/3xx: {len(reached)}"
          + (f" {sorted(reached)}" if ONLY else ""))
    assert failures == [], "\n\n".join(failures)
    assert calls["n"] >= len(operations)
    loan_ops = [op.label for op in operations if "{loan_id}" in op.label]
    assert (loan_ops or ONLY) and all(label in reached for label in loan_ops), loan_ops
