"""Fuzzing every web form with hypothesis, CSRF on (issue 18): each POST endpoint of the
tenant's pages (plugins' included) and of the operator's, signed in as a role allowed
there, gets generated field values (any text, NUL characters, huge numbers, odd dates,
invalid UTF-8 bytes) with a valid CSRF token. Never a 5xx nor a stack trace.

``CCAS_FUZZ_FORM_EXAMPLES`` (6 by default) examples per form; the figures are printed.
"""

from __future__ import annotations

import os
import re
import uuid
from collections import Counter
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.testing.pytest_plugin import csrf_token_of

EXAMPLES = int(os.environ.get("CCAS_FUZZ_FORM_EXAMPLES", "6"))
#: Endpoints not worth fuzzing: signing out ends the session the fuzzing runs in.
SKIPPED = {"web.logout", "operator.logout"}

nasty_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", "0", "-1", "1e999", "9" * 40, "9999-12-31", "31/12/9999",
                     "2026-02-30", "NaN", "１２", "<script>", "' OR 1=1 --", "a\x00b",
                     "../../etc/passwd", "é" * 300]),
)
raw_bytes = st.binary(max_size=20)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True,
            "CCAS_RATELIMIT_STORAGE_URL": "memory://", "CCAS_API_LIMIT": "100000 per minute"}


def _form_endpoints(app):
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in SKIPPED:
            continue
        if not (rule.rule.startswith("/t/<tenant>/") or rule.rule.startswith("/operator")):
            continue
        yield rule


def _url(rule, ids: dict) -> str:
    def value(match):
        name = match.group(2)
        return ids.get(name, str(uuid.uuid4()))

    return re.sub(r"<(?:([^:<>]+):)?([^<>]+)>", value, rule.rule)


def _fields_of(client, url: str) -> list[str]:
    page = client.get(url)
    if page.status_code != 200:
        return []
    names = set(re.findall(r'name="([^"]+)"', page.get_data(as_text=True)))
    return sorted(names - {"csrf_token"})


@pytest.fixture
def world(session, tenant, in_tenant, users, enable_plugin):
    from plugins.credit_municipal.tests.loan_helpers import disbursed_loan

    for name in ("credit_municipal", "caf", "secours_catholique", "adie"):
        enable_plugin(tenant, name)
    loan = disbursed_loan(session, tenant, in_tenant, users, disbursed_days_ago=40)
    with in_tenant(tenant):
        return {"tenant": "alpha", "loan_id": str(loan.id), "case_id": str(loan.case_id)}


def test_every_form_survives_generated_input_with_csrf_on(app, users, login, operator, world):
    staff = app.test_client()
    login(staff, users["manager"])
    worker = app.test_client()
    login(worker, users["social_worker"])
    lender = app.test_client()
    login(lender, users["lender_agent"])
    ops = app.test_client()
    login(ops, operator)
    clients = [staff, worker, lender]
    statuses: Counter = Counter()
    failures: list[str] = []
    forms = 0
    for rule in sorted(_form_endpoints(app), key=lambda r: r.rule):
        url = _url(rule, world)
        candidates = [ops] if rule.rule.startswith("/operator") else clients
        fields = _fields_of(candidates[0], url) or ["note", "name", "amount", "day", "q"]
        tokens = [csrf_token_of(c, "/operator/" if c is ops else "/t/alpha/account/sessions")
                  for c in candidates]
        forms += 1

        try:
            _fuzz(fields, url, tokens, candidates, statuses)
        except AssertionError as exc:
            failures.append(str(exc)[:600])
    total = sum(statuses.values())
    print(f"\nform fuzzing: {forms} forms, {total} posts, "
          f"statuses {dict(sorted(statuses.items()))}, {len(failures)} failing forms")
    assert failures == [], "\n".join(failures)
    assert forms >= 20


def _fuzz(fields, url, tokens, candidates, statuses) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(values=st.fixed_dictionaries({f: nasty_text for f in fields}),
           garbage=st.one_of(st.none(), raw_bytes), who=st.integers(0, 2))
    def post(values, garbage, who):
        client = candidates[who % len(candidates)]
        token = tokens[who % len(candidates)]
        body = "&".join(f"{quote_from_bytes(k.encode())}="
                        f"{quote_from_bytes(v.encode('utf-8', 'surrogatepass'))}"
                        for k, v in values.items()).encode()
        if garbage is not None:
            body += b"&note=" + quote_from_bytes(garbage).encode()
        body += b"&csrf_token=" + token.encode()
        response = client.post(url, data=body,
                               content_type="application/x-www-form-urlencoded")
        statuses[response.status_code] += 1
        text = response.get_data(as_text=True)
        assert response.status_code < 500 and "Traceback" not in text, (
            f"{url}: {response.status_code} with {values!r} {garbage!r}")

    post()
