"""Every endpoint has a declared policy (core.policy); a new one without fails here."""

from __future__ import annotations

from core.policy import POLICY, policy_of

EXEMPT = {"static"}


def test_every_endpoint_declares_its_policy(app):
    missing = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in EXEMPT and policy_of(app.view_functions[rule.endpoint]) is None
    ]
    assert missing == [], f"endpoints without a policy entry: {missing}"


def test_policy_roles_are_known():
    from core.policy import ALL_TENANT_ROLES

    for key, rule in POLICY.items():
        if not isinstance(rule, str):
            assert rule <= ALL_TENANT_ROLES, key
