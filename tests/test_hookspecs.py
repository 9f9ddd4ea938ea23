"""The plugin contract is documented hook by hook, and docs/hooks.md is up to date."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from core import hookspecs
from core.plugins import hookdocs

HOOKS = hookdocs.hook_names()


def test_there_are_hooks():
    assert "ccas_plugin_info" in HOOKS and len(HOOKS) >= 10


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented(name):
    fn = getattr(hookspecs, name)
    doc = inspect.getdoc(fn) or ""
    assert doc, f"{name} has no docstring"
    assert "Call mode:" in doc, f"{name}: say how results are combined"
    assert ":return:" in doc, f"{name}: document the return value"
    assert "Example::" in doc, f"{name}: give an example"
    params = list(inspect.signature(fn).parameters)
    documented = re.findall(r":param (\w+):", doc)
    assert documented == params, f"{name}: documented {documented} != signature {params}"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_names_are_prefixed(name):
    assert name.startswith("ccas_")


def test_every_hook_sits_in_a_section():
    listed = [n for _title, names in hookdocs._sections() for n in names]
    assert sorted(listed) == sorted(HOOKS)


def test_generated_reference_is_current():
    path = Path(__file__).resolve().parent.parent / "docs" / "hooks.md"
    assert path.read_text(encoding="utf-8") == hookdocs.render_reference(), (
        "docs/hooks.md is stale: run `ccas plugin docs`"
    )


def test_reference_lists_every_hook_with_its_signature():
    text = hookdocs.render_reference()
    for name in HOOKS:
        assert f"### `{hookdocs.signature(name)}`" in text
