"""How the browser tests and ``scripts/screenshots.py`` launch Debian's Chromium: in
French, so that the pages look as a French user sees them.

The page's ``locale="fr-FR"`` (Playwright's context) sets ``navigator.language`` and the
``Accept-Language`` header, but not the browser's own language, which draws the date
inputs' placeholder and format (``jj/mm/aaaa`` rather than ``mm/dd/yyyy``). On Linux
Chromium takes its language from the environment (``LANGUAGE``, then ``LC_ALL``,
``LANG``; ``--lang`` is read on the other systems only), and needs that language's
resources: Debian ships them in ``chromium-l10n`` (without it Chromium falls back to
English whatever the environment says).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: Chromium's switches: no sandbox (containers), no GPU, no calls home.
ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--lang=fr-FR")
#: Where Debian's Chromium keeps its languages' resources.
DEBIAN_LOCALES = Path("/usr/lib/chromium/locales")


def chromium() -> str | None:
    """The path of Debian's Chromium, ``None`` when it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def french_env(environ=None) -> dict[str, str]:
    """The environment to launch Chromium in French: ``environ`` (the process's by
    default) with ``LANGUAGE`` set to French."""
    env = dict(os.environ if environ is None else environ)
    env["LANGUAGE"] = "fr_FR:fr"
    return env


def french_missing() -> str | None:
    """A French sentence saying what to install when Debian's Chromium lacks its French
    resources (``None`` when they are there, or on another system)."""
    if DEBIAN_LOCALES.is_dir() and not (DEBIAN_LOCALES / "fr.pak").exists():
        return ("Chromium n'a pas ses ressources en français (paquet Debian "
                "« chromium-l10n ») : les champs de date s'afficheront en anglais "
                "(mm/dd/yyyy).")
    return None


def launch(playwright, **kwargs):
    """Chromium launched through ``playwright`` (its ``sync_playwright()`` object), in
    French."""
    return playwright.chromium.launch(executable_path=chromium(), args=list(ARGS),
                                      env=french_env(), **kwargs)
