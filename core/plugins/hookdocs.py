"""Generate the hook reference (docs/hooks.md) from the plugin manager's hooks: the core's
contract (``core/hookspecs.py``, in its banner sections) and the hooks the installed
plugins declare (``ccas_hookspecs``), each under its plugin."""

from __future__ import annotations

import inspect
import re

from .. import hookspecs

SECTION_RE = re.compile(r"^# =+\n# (.+)\n# =+$", re.M)


def hook_specs(registry) -> dict[str, object]:
    """``{hook name: spec function}`` of every hook the plugin manager knows."""
    out = {}
    for name in dir(registry.pm.hook):
        caller = getattr(registry.pm.hook, name)
        spec = getattr(caller, "spec", None)
        if spec is not None:
            out[name] = spec.function
    return dict(sorted(out.items()))


def declared_by(registry) -> dict[str, str]:
    """``{hook name: plugin}`` of the hooks a plugin declares (not the core)."""
    core = {n for n, f in vars(hookspecs).items() if getattr(f, "ccas_policy", None)}
    out = {}
    for name, fn in hook_specs(registry).items():
        if name not in core:
            module = fn.__module__.split(".")
            owner = next((p for p in registry.plugins if p in module), fn.__module__)
            out[name] = owner
    return out


def signature(fn) -> str:
    return f"{fn.__name__}{inspect.signature(fn)}"


def policy_line(fn) -> str:
    policy = getattr(fn, "ccas_policy", "?")
    return {"deciding": "Policy: deciding (a plugin that raises refuses the action; nothing "
                        "is written).",
            "decorating": "Policy: decorating (a plugin that raises is logged and left out)."
            }.get(policy, f"Policy: {policy}")


def _sections() -> list[tuple[str, list[str]]]:
    source = inspect.getsource(hookspecs)
    out: list[tuple[str, list[str]]] = []
    positions = [(m.start(), m.group(1)) for m in SECTION_RE.finditer(source)]
    for index, (start, title) in enumerate(positions):
        end = positions[index + 1][0] if index + 1 < len(positions) else len(source)
        names = re.findall(r"^def (ccas_\w+)\(", source[start:end], re.M)
        out.append((title, names))
    return out


def _entry(fn) -> list[str]:
    return [f"### `{signature(fn)}`", "", policy_line(fn), "",
            inspect.cleandoc(fn.__doc__ or ""), ""]


def render_reference(registry) -> str:
    lines = [
        "# Hook reference",
        "",
        "Generated from the plugin manager's hooks (`core/hookspecs.py` and the hooks the "
        "installed plugins declare) by `ccas plugin docs`; do not edit by hand.",
        "",
        inspect.cleandoc(hookspecs.__doc__ or ""),
        "",
    ]
    for title, names in _sections():
        lines += [f"## {title}", ""]
        for name in names:
            lines += _entry(getattr(hookspecs, name))
    owners = declared_by(registry)
    specs = hook_specs(registry)
    for plugin in sorted(set(owners.values())):
        lines += [f"## Declared by the plugin `{plugin}`", ""]
        for name in sorted(n for n, p in owners.items() if p == plugin):
            lines += _entry(specs[name])
    return "\n".join(lines).rstrip() + "\n"
