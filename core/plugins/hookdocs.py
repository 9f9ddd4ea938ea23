"""Generate the hook reference (docs/hooks.md) from ``core/hookspecs.py``."""

from __future__ import annotations

import inspect
import re

from .. import hookspecs

SECTION_RE = re.compile(r"^# =+\n# (.+)\n# =+$", re.M)


def hook_names() -> list[str]:
    return [n for n, obj in vars(hookspecs).items() if n.startswith("ccas_") and callable(obj)]


def signature(name: str) -> str:
    return f"{name}{inspect.signature(getattr(hookspecs, name))}"


def _sections() -> list[tuple[str, list[str]]]:
    source = inspect.getsource(hookspecs)
    out: list[tuple[str, list[str]]] = []
    positions = [(m.start(), m.group(1)) for m in SECTION_RE.finditer(source)]
    for index, (start, title) in enumerate(positions):
        end = positions[index + 1][0] if index + 1 < len(positions) else len(source)
        names = re.findall(r"^def (ccas_\w+)\(", source[start:end], re.M)
        out.append((title, names))
    return out


def render_reference() -> str:
    lines = [
        "# Hook reference",
        "",
        "Generated from `core/hookspecs.py` by `ccas plugin docs`; do not edit by hand.",
        "",
        inspect.cleandoc(hookspecs.__doc__ or ""),
        "",
    ]
    for title, names in _sections():
        lines += [f"## {title}", ""]
        for name in names:
            fn = getattr(hookspecs, name)
            lines += [f"### `{signature(name)}`", "", inspect.cleandoc(fn.__doc__ or ""), ""]
    return "\n".join(lines).rstrip() + "\n"
