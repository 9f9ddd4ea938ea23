"""The core's layout holds what ``docs/architecture.md`` and ``docs/development.md`` say:
packages by concern, no module-level import cycle, imports inside functions only with a
reason, one plugin mechanism, no partner in the core."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "core"


def _name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    package = parts[-1] == "__init__"
    if package:
        parts = parts[:-1]
    return ".".join(parts), package


MODULES = {_name(p)[0]: p for p in CORE.rglob("*.py")}


def _target(module: str, package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if package else module.split(".")[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imported(module: str, package: bool, node) -> set[str]:
    """The core modules an import statement loads (a submodule named in ``from x import
    y`` counts as ``x.y``; names taken from ``x`` itself count as ``x``)."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in MODULES}
    base = _target(module, package, node)
    subs = {f"{base}.{a.name}" for a in node.names}
    found = {s for s in subs if s in MODULES}
    if len(found) < len(subs) and base in MODULES:
        found.add(base)
    return found


def module_level_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in MODULES.items():
        package = _name(path)[1]
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[module] |= _imported(module, package, node) - {module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(set(graph) | {w for ws in graph.values() for w in ws}):
        if v not in index:
            visit(v)
    return found


def nested_imports() -> list[tuple[str, int, str]]:
    """``(file, line, the comment above)`` of every import inside a function."""
    out = []
    for path in MODULES.values():
        source = path.read_text(encoding="utf-8")
        lines = source.split("\n")
        for fn in ast.walk(ast.parse(source)):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, (ast.Import, ast.ImportFrom)):
                        # the comment above the run of imports this one belongs to
                        at = node.lineno - 2
                        while lines[at].strip().startswith(("from ", "import ")):
                            at -= 1
                        out.append((str(path.relative_to(ROOT)), node.lineno,
                                    lines[at].strip()))
    return sorted(set(out))


def test_the_core_has_no_module_level_import_cycle():
    assert cycles(module_level_graph()) == []


def test_the_cycle_finder_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_an_import_inside_a_function_says_why():
    unexplained = [(f, n) for f, n, above in nested_imports()
                   if not above.startswith("#") or not _deferred_comment(f, n)]
    assert unexplained == []


def _deferred_comment(file: str, line: int) -> bool:
    """A ``# deferred: <reason>`` comment ends right above the import (or its run)."""
    lines = (ROOT / file).read_text(encoding="utf-8").split("\n")[:line - 1]
    while lines and lines[-1].strip().startswith(("from ", "import ")):
        lines.pop()
    comment = []
    while lines and lines[-1].strip().startswith("#"):
        comment.insert(0, lines.pop().strip())
    return bool(comment) and comment[0].startswith("# deferred: ") and len(comment[0]) > 20


def test_imports_inside_functions_stay_under_two_per_thousand_lines():
    lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in MODULES.values())
    per_thousand = len(nested_imports()) * 1000 / lines
    assert per_thousand < 2, f"{len(nested_imports())} in {lines} lines"


@pytest.mark.parametrize("word", ["CORE_CHECKS", "CORE_LISTENERS", "DESTINATION_PROVIDERS",
                                  "CoreNavItem", "noqa: SLF001", "case_section(",
                                  "dashboard_section("])
def test_one_extension_mechanism(word):
    found = [str(p.relative_to(ROOT)) for p in CORE.rglob("*.py")
             if word in p.read_text(encoding="utf-8")]
    assert found == []


def test_no_partner_in_the_core():
    """The lender's FICP check lives in its plugin: states, path, intake option, labels,
    milestones, hook (``plugins/credit_municipal``)."""
    pattern = re.compile("ficp", re.IGNORECASE)
    found = [str(p.relative_to(ROOT)) for p in CORE.rglob("*")
             if p.suffix in (".py", ".html", ".tmpl") and pattern.search(
                 p.read_text(encoding="utf-8"))]
    assert found == []


def test_every_package_and_top_level_module_of_the_core_is_in_the_architecture_page():
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    entries = sorted(p.name for p in CORE.iterdir()
                     if (p.is_dir() and (p / "__init__.py").exists())
                     or (p.suffix == ".py" and p.name != "__init__.py"))
    missing = [name for name in entries
               if not re.search(rf"(^|\s){re.escape(name.removesuffix('.py'))}(\.py|/)",
                                page, re.M)]
    assert missing == []
