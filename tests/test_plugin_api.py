"""``core.plugin_api`` is the one door from a plugin into the core: every module under
``plugins/`` (their tests excepted) imports from it and from no other ``core`` module; the
scaffolded plugin obeys the same rule; every name the API promises exists and is listed
in docs/plugins.md."""

from __future__ import annotations

import ast
from pathlib import Path

from core import plugin_api
from core.plugins import scaffold

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / "plugins"
ALLOWED = "core.plugin_api"


def _is_private_core(module: str) -> bool:
    return (module == "core" or module.startswith("core.")) and module != ALLOWED


def private_core_imports(source: str, filename: str) -> list[str]:
    """``file:line: module`` for each import of ``core`` or ``core.<anything>`` other
    than ``core.plugin_api`` (``from core import plugin_api`` is the same module), at
    any depth (inside functions too), including ``importlib.import_module("core.x")``
    and ``__import__("core.x")`` with a literal name."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level or not node.module:
                continue  # relative: inside the plugin's own package
            if node.module == "core":
                modules = [f"core.{alias.name}" for alias in node.names]
            else:
                modules = [node.module]
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            first = node.args[0]
            if name not in ("import_module", "__import__") or not (
                    isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            modules = [first.value]
        else:
            continue
        found += [f"{filename}:{node.lineno}: {m}" for m in modules if _is_private_core(m)]
    return found


def plugin_modules() -> list[Path]:
    """Every ``.py`` file under ``plugins/`` (migrations included), tests excepted."""
    return sorted(
        path for path in PLUGINS.rglob("*.py")
        if "tests" not in path.relative_to(PLUGINS).parts
    )


def test_plugin_modules_import_nothing_from_core_but_the_plugin_api():
    modules = plugin_modules()
    names = {p.relative_to(ROOT).as_posix() for p in modules}
    # the walk really covers the plugins, their migrations, and skips their tests
    assert {"plugins/credit_municipal/loans.py", "plugins/caf/__init__.py",
            "plugins/credit_municipal/migrations/cm_0003_loans.py"} <= names
    assert not any("/tests/" in name for name in names)
    found = []
    for path in modules:
        found += private_core_imports(path.read_text(encoding="utf-8"),
                                      path.relative_to(ROOT).as_posix())
    assert found == [], (
        "A plugin imports from core.plugin_api only (add what it needs there, "
        "documented):\n" + "\n".join(found))


def test_the_check_names_the_file_and_line_of_every_private_import():
    source = (
        "import core.plugin_api\n"
        "from core.plugin_api import hookimpl\n"
        "from core import plugin_api\n"
        "import core.models.base\n"
        "from core import audit, plugin_api as api\n"
        "import core\n"
        "from .models import Loan\n"
        "import corelib\n"
        "def f():\n"
        "    from core.db import db\n"
        "    importlib.import_module('core.workflow')\n"
        "    return __import__('core.plugin_api')\n"
    )
    assert private_core_imports(source, "p.py") == [
        "p.py:4: core.models.base",
        "p.py:5: core.audit",
        "p.py:6: core",
        "p.py:10: core.db",
        "p.py:11: core.workflow",
    ]


def test_the_scaffolded_plugin_imports_nothing_from_core_but_the_plugin_api():
    files = scaffold.render("udaf")
    package = {path: text for path, text in files.items()
               if path.endswith(".py") and path.startswith("ccas_udaf/")}
    assert "ccas_udaf/__init__.py" in package and "ccas_udaf/settings.py" in package
    found = []
    for path, text in package.items():
        found += private_core_imports(text, path)
    assert found == []


def test_every_name_the_plugin_api_promises_exists_once_and_is_documented():
    promised = plugin_api.__all__
    assert len(promised) == len(set(promised))
    assert [n for n in promised if not hasattr(plugin_api, n)] == []
    docs = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    assert [n for n in promised if f"`{n}" not in docs] == []
    module_doc = plugin_api.__doc__
    assert [n for n in promised if f"``{n}" not in module_doc] == []
