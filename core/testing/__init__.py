"""Testing helpers for the core's tests and plugins' tests. The fixtures are in
``core.testing.pytest_plugin`` (installed as a pytest plugin with the core)."""

from __future__ import annotations


def answer_of(plugin: str, hook, **kwargs):
    """What ``plugin`` alone answers to ``hook`` (e.g. ``hooks().ccas_suggest_alternatives``),
    called with ``kwargs`` and the hook's policy: the core's features and the other
    enabled plugins answer the same hooks. ``None`` when the plugin gives nothing."""
    for name, result in hook.answers(**kwargs).results:
        if name == plugin:
            return result
    return None
