"""Every plugin's report section under the funders' view (issue 18, finding 8): an amount
in a section comes with the count it derives from (``derived_from``), and the funders'
view hides it when that count is under 5."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pytest

from core.reports import suppression, yearly

PLUGINS = ("credit_municipal", "caf", "secours_catholique", "adie")


def _amounts(data, path=()):
    """``(path, dict, key)`` of every decimal-string amount in ``data``."""
    if isinstance(data, list):
        for i, value in enumerate(data):
            yield from _amounts(value, (*path, i))
        return
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        if isinstance(value, (dict, list)):
            yield from _amounts(value, (*path, key))
        elif isinstance(value, str) and "." in value:
            try:
                Decimal(value)
            except InvalidOperation:
                continue
            yield (*path, key), data, key


def _declared(owner: dict, key: str, parents) -> bool:
    """``owner[key]`` is declared in ``owner``'s ``derived_from``, or ``owner`` (amounts by
    key) is declared in its parent's."""
    def derived(d):
        return d.get("derived_from") or {}

    return key in derived(owner) or any(
        k in derived(parent) for parent in parents for k, v in parent.items() if v is owner)


@pytest.fixture
def every_plugin(tenant, enable_plugin):
    for name in PLUGINS:
        enable_plugin(tenant, name)


def test_every_amount_of_every_plugin_section_names_its_count(
        every_plugin, session, tenant, in_tenant):
    with in_tenant(tenant):
        report = yearly.to_jsonable(yearly.build_report(session, tenant, 2026))
    assert set(PLUGINS) <= set(report["sections"])
    for name, section in report["sections"].items():
        data = section["data"]
        for path, owner, key in _amounts(data):
            parents = [data]
            for step in path[:-2]:
                parents.append(parents[-1][step])
            assert _declared(owner, key, parents), f"{name}: {'.'.join(map(str, path))}"


def test_the_funders_view_hides_every_amount_of_a_small_count_in_every_section(
        every_plugin, session, tenant, in_tenant):
    """An empty year: every count is under 5, so no amount of any section is shown."""
    with in_tenant(tenant):
        report = yearly.to_jsonable(yearly.build_report(session, tenant, 2026))
    shown = suppression.funder_view(report)
    for name, section in shown["sections"].items():
        visible = [path for path, owner, key in _amounts(section["data"])]
        assert visible == [], f"{name}: {visible}"
    assert [p for p, _o, _k in _amounts(shown["loans"])] == []
