"""The lender's loan API, ``GET /api/v1/p/credit_municipal/loans/<id>`` and
``/schedule`` (a plugin's token-authenticated routes), and the deprecated
``/api/v1/loans/…`` paths that answer the same for one minor version: the loan readers of
``core.policy`` (lender agents, the manager and social workers, as on the loan pages), the
CLI's JSON shape, 404 for another tenant's loan or a tenant without the lender plugin."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from core.cli import main
from plugins.credit_municipal.tests.loan_helpers import disbursed_loan, granted_loan

NEW = "/api/v1/p/credit_municipal/loans"
OLD = "/api/v1/loans"


@pytest.fixture(autouse=True)
def lender(tenant, enable_plugin):
    enable_plugin(tenant, "credit_municipal")


@pytest.fixture(params=[NEW, OLD], ids=["plugin-path", "deprecated-path"])
def loans(request):
    return request.param


def get(client, token, path):
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def test_a_lender_agent_reads_a_loan(loans, client, api_token, session, tenant, in_tenant, users):
    loan = disbursed_loan(session, tenant, in_tenant, users, disbursed_days_ago=100)
    response = get(client, api_token(users["lender_agent"]), f"{loans}/{loan.id}")
    assert response.status_code == 200
    data = response.get_json()
    assert data["id"] == str(loan.id) and data["status"] == "repaying"
    assert data["amount"] == "3000.00" and data["months"] == 36
    assert data["outstanding"] == "3000.00" and data["days_past_due"] > 60


def test_the_schedule_has_the_same_shape_as_the_cli(loans, client, api_token, session, tenant,
                                                    in_tenant, users):
    loan = granted_loan(session, tenant, in_tenant, users)
    response = get(client, api_token(users["social_worker"]),
                   f"{loans}/{loan.id}/schedule")
    assert response.status_code == 200
    api = response.get_json()
    cli = json.loads(CliRunner().invoke(main, [
        "loan", "schedule", "--amount", "3000", "--months", "36", "--rate", "3.04",
        "--interest-paid-by", "city", "--start", loan.decided_on.isoformat(),
        "--format", "json"]).output)
    assert api == cli


def test_a_disbursed_loan_schedule_comes_from_the_live_instalments(loans, client, api_token,
                                                                   session, tenant,
                                                                   in_tenant, users):
    loan = disbursed_loan(session, tenant, in_tenant, users, disbursed_days_ago=40)
    data = get(client, api_token(users["manager"]), f"{loans}/{loan.id}/schedule")
    data = data.get_json()
    assert data["installment"] == "87.30" and len(data["installments"]) == 36
    assert data["apr"] == "0.00"  # the City pays the interest
    assert set(data) == {"amount", "months", "annual_rate", "method", "installment",
                         "total_interest", "total_cost", "apr", "installments"}


@pytest.mark.parametrize("role", ["secretary", "referrer", "funder"])
def test_the_secretary_partners_and_funders_may_not_read_loans(loans, role, client, api_token,
                                                               session, tenant, in_tenant,
                                                               users):
    loan = granted_loan(session, tenant, in_tenant, users)
    token = api_token(users[role])
    assert get(client, token, f"{loans}/{loan.id}").status_code == 403
    assert get(client, token, f"{loans}/{loan.id}/schedule").status_code == 403


def test_another_tenants_loan_is_404(loans, client, api_token, session, tenant, in_tenant, users,
                                     other_tenant, make_user, enable_plugin):
    loan = granted_loan(session, tenant, in_tenant, users)
    enable_plugin(other_tenant, "credit_municipal")
    agent = make_user(other_tenant, "lender_agent", org="Crédit Municipal", org_kind="lender")
    token = api_token(agent)
    assert get(client, token, f"{loans}/{loan.id}").status_code == 404
    assert get(client, token, f"{loans}/{loan.id}/schedule").status_code == 404


def test_an_unknown_or_malformed_id_is_404(loans, client, api_token, users):
    token = api_token(users["lender_agent"])
    assert get(client, token, f"{loans}/not-a-uuid").status_code == 404
    response = get(client, token, f"{loans}/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_without_the_lender_plugin_loans_are_404(loans, client, api_token, session, tenant,
                                                 in_tenant, users, enable_plugin):
    loan = granted_loan(session, tenant, in_tenant, users)
    from core import plugins

    with in_tenant(tenant):
        plugins.set_enabled(session, "credit_municipal", False)
        session.commit()
    assert get(client, api_token(users["lender_agent"]),
               f"{loans}/{loan.id}").status_code == 404


def test_the_old_paths_announce_their_deprecation_and_sunset(loans, client, api_token,
                                                             session, tenant, in_tenant,
                                                             users):
    loan = granted_loan(session, tenant, in_tenant, users)
    token = api_token(users["lender_agent"])
    for path in (f"{loans}/{loan.id}", f"{loans}/{loan.id}/schedule"):
        response = get(client, token, path)
        assert response.status_code == 200
        if loans == OLD:
            assert response.headers["Deprecation"].startswith("@")
            assert response.headers["Sunset"].endswith("GMT")
            assert 'rel="deprecation"' in response.headers["Link"]
        else:
            assert "Deprecation" not in response.headers


def test_the_plugin_path_needs_a_token_and_is_described_in_the_openapi_document(
        loans, client, session, tenant, in_tenant, users):
    loan = granted_loan(session, tenant, in_tenant, users)
    response = client.get(f"{loans}/{loan.id}")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/p/credit_municipal/loans/{loan_id}" in paths
    assert paths["/api/v1/loans/{loan_id}"]["get"]["deprecated"] is True
