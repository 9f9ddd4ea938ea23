"""Fuzzing the API with schemathesis, from the OpenAPI document the application serves
(``/api/v1/openapi.json``): every operation, valid and invalid data, a bounded number of
examples, with valid bearer tokens of several roles. No 5xx, and every response conforms
to the schema (body and content type). New endpoints are picked up from the document."""

from __future__ import annotations

import contextvars

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import SchemathesisError
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

MAX_EXAMPLES = 25
ROLES = ("manager", "social_worker", "referrer", "lender_agent")
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def app_config(app_config):
    # Do not let the API limit of one token cut the fuzzing short.
    return {**app_config, "CCAS_API_LIMIT": "100000 per minute"}


def isolated(app):
    """Each request in its own context (own app context, session, tenant), like a real
    server: schemathesis' WSGI client would otherwise share the test's context."""

    def wsgi(environ, start_response):
        return contextvars.Context().run(lambda: list(app(environ, start_response)))

    return wsgi


def test_api_fuzzing_finds_no_server_error_and_no_schema_violation(app, users, api_token):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", isolated(app))
    tokens = {role: api_token(users[role]) for role in ROLES}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the OpenAPI document lists no operation"
    failures: list[str] = []
    examples = {"n": 0}

    def fuzz(operation, mode, headers):
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            examples["n"] += 1
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for role, token in tokens.items():
                try:
                    fuzz(operation, mode, {"Authorization": f"Bearer {token}"})
                except (AssertionError, ExceptionGroup) as exc:  # a check failed
                    failures.append(f"{operation.label} [{mode.value}, {role}]: "
                                    f"{str(exc)[:1500]}")
                except SchemathesisError as exc:  # the document itself is unusable
                    failures.append(f"{operation.label}: invalid OpenAPI description: "
                                    f"{str(exc)[:1500]}")
                    break
    print(f"schemathesis: {len(operations)} operations, {examples['n']} examples, "
          f"{len(failures)} failures")
    assert failures == [], "\n\n".join(failures)
    assert examples["n"] >= len(operations)
