"""The plugin contract is documented hook by hook, and docs/hooks.md is up to date.

The checks walk the plugin manager's hooks (the core's contract and the hooks the
installed plugins declare), not a name pattern: a hook declared without the ``ccas_``
prefix, without a policy or without its documentation fails here."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from core import hookspecs, plugins
from core.plugins import hookdocs


def _registry():
    registry = plugins.PluginRegistry()
    registry.load_entry_points()
    assert not registry.refused(), registry.refused()
    return registry


REGISTRY = _registry()
HOOKS = hookdocs.hook_specs(REGISTRY)


def test_the_manager_knows_the_core_and_the_plugins_hooks():
    assert "ccas_plugin_info" in HOOKS and len(HOOKS) >= 20
    assert hookdocs.declared_by(REGISTRY) == {"ccas_ficp_check": "credit_municipal"}


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_hook_is_documented(name):
    fn = HOOKS[name]
    doc = inspect.getdoc(fn) or ""
    assert doc, f"{name} has no docstring"
    assert "Call mode:" in doc, f"{name}: say how results are combined"
    assert ":return:" in doc, f"{name}: document the return value"
    assert "Example::" in doc, f"{name}: give an example"
    params = list(inspect.signature(fn).parameters)
    documented = re.findall(r":param (\w+):", doc)
    assert documented == params, f"{name}: documented {documented} != signature {params}"


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_hook_is_prefixed_and_declares_its_policy(name):
    assert name.startswith("ccas_")
    assert getattr(HOOKS[name], "ccas_policy", None) in ("deciding", "decorating")


def test_a_hook_without_prefix_or_policy_is_caught():
    """The walk sees a plugin's hooks whatever their names."""
    import types

    from core.plugin_api import PluginInfo, hookimpl, hookspec

    specs = types.ModuleType("badspecs")

    @hookspec
    def udaf_sync(case):
        """No prefix, no policy."""

    specs.udaf_sync = udaf_sync
    plugin = types.ModuleType("badplugin")
    plugin.ccas_plugin_info = hookimpl(lambda: PluginInfo("badplugin", "Bad", "1"))
    plugin.ccas_hookspecs = hookimpl(lambda: [specs])
    registry = plugins.PluginRegistry()
    registry.register(plugin, "badplugin")
    found = hookdocs.hook_specs(registry)
    assert "udaf_sync" in found
    assert not found["udaf_sync"].__name__.startswith("ccas_")
    assert getattr(found["udaf_sync"], "ccas_policy", None) is None


def test_every_core_hook_sits_in_a_section():
    core = {n for n, f in vars(hookspecs).items() if getattr(f, "ccas_policy", None)}
    listed = [n for _title, names in hookdocs._sections() for n in names]
    assert sorted(listed) == sorted(core)


def test_generated_reference_is_current():
    path = Path(__file__).resolve().parent.parent / "docs" / "hooks.md"
    assert path.read_text(encoding="utf-8") == hookdocs.render_reference(REGISTRY), (
        "docs/hooks.md is stale: run `ccas plugin docs`"
    )


def test_reference_lists_every_hook_with_its_signature_and_policy():
    text = hookdocs.render_reference(REGISTRY)
    for fn in HOOKS.values():
        assert f"### `{hookdocs.signature(fn)}`\n\n{hookdocs.policy_line(fn)}" in text
