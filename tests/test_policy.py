"""Every endpoint has a declared policy (core.policy); a new one without fails here."""

from __future__ import annotations

from core.policy import policy_of

EXEMPT = {"static"}


def test_every_endpoint_declares_its_policy(app):
    missing = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in EXEMPT and policy_of(app.view_functions[rule.endpoint]) is None
    ]
    assert missing == [], f"endpoints without a policy entry: {missing}"


def test_allow_takes_roles_and_named_groups_and_refuses_an_unknown_role():
    import pytest

    from core.policy import CCAS_STAFF, LENDER, allow

    @allow(CCAS_STAFF, LENDER)
    def view():
        return "ok"

    assert policy_of(view) == {"manager", "secretary", "social_worker", "lender_agent"}
    with pytest.raises(ValueError, match="unknown roles"):
        allow("admin")


def test_only_token_authenticated_api_views_skip_the_csrf_check(app):
    """The CSRF opt-out is explicit, view by view: every API view (core and plugins) and
    nothing else; no blueprint is exempted by its name or URL prefix."""
    csrf = app.extensions["csrf"]
    exempt_blueprints = getattr(csrf, "_exempt_blueprints", set())
    assert not exempt_blueprints
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        token = getattr(view, "ccas_token_authenticated", False)
        if rule.rule.startswith("/api/v1/") and policy_of(view) != "public":
            assert token, rule.rule
        else:
            assert not token, rule.rule
        exempt = f"{view.__module__}.{view.__name__}" in csrf._exempt_views
        assert exempt == token, rule.rule
