"""``ccas plugin new NAME``: scaffold an installable partner plugin.

The files come from ``core/plugins/scaffold_templates`` (``*.tmpl``, filled with
:meth:`str.format`: ``{name}``, ``{label}``, ``{package}``, ``{dashed}``; literal braces
are doubled). ``package/`` becomes the plugin's package and ``NAME`` the plugin name.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import UserError

TEMPLATES = Path(__file__).parent / "scaffold_templates"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def names(name: str) -> dict[str, str]:
    if not NAME_RE.match(name or ""):
        raise UserError("Nom d'extension invalide : minuscules, chiffres et _ (2 à 40 "
                        "caractères, commençant par une lettre).", field="name")
    return {
        "name": name,
        "label": name.replace("_", " ").upper(),
        "package": f"ccas_{name}",
        "dashed": name.replace("_", "-"),
    }


def render(name: str) -> dict[str, str]:
    """``{relative path: content}`` of the scaffolded project."""
    values = names(name)
    out = {}
    for template in sorted(TEMPLATES.rglob("*.tmpl")):
        relative = template.relative_to(TEMPLATES).as_posix()[: -len(".tmpl")]
        relative = relative.replace("package/", f"{values['package']}/", 1)
        relative = relative.replace("/NAME/", f"/{name}/")
        out[relative] = template.read_text(encoding="utf-8").format(**values)
    return out


def create(name: str, output: str | Path) -> Path:
    """Write the project into ``output/ccas-plugin-<name>``; refuse to overwrite."""
    values = names(name)
    target = Path(output) / f"ccas-plugin-{values['dashed']}"
    if target.exists():
        raise UserError(f"{target} existe déjà : choisissez un autre dossier (--output).")
    for relative, content in render(name).items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return target
