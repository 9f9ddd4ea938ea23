"""Screenshots of every role's main pages in the populated demo, at 1280 and 375 px.

    .venv/bin/python scripts/screenshots.py [--output docs/screenshots/demo]

Builds the demo city in a temporary SQLite database (``ccas demo``'s generator, the
default seed, relative to today), serves it on a free loopback port, signs in as each role
in headless Chromium (Debian's ``chromium``, with ``chromium-l10n`` for its French: see
``core.testing.browser``) and writes ``<role>-<page>-<width>.jpg``. The
user guides in ``docs/guide/`` show these files. Not part of the tests: run it by hand
after a change of the pages (``make screenshots``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "demo-ccas-2026"  # noqa: S105 - the demo's published password
SLUG = "toulouse"
# role: (login, [(name, path or a callable giving the path from the demo's ids)])
PAGES = {
    "responsable": ("responsable@ccas-toulouse.demo", [
        ("tableau-de-bord", "/"), ("dossiers", "/cases/"), ("bilan", "/bilans/"),
        ("extension-credit-municipal", "/admin/plugins/credit_municipal"),
        ("comptes", "/admin/users"), ("journal-audit", "/admin/audit/")]),
    "secretariat": ("secretariat@ccas-toulouse.demo", [
        ("tableau-de-bord", "/"), ("fiche-recueil", "/cases/new"), ("agenda", "/agenda")]),
    "travailleur-social": ("as@ccas-toulouse.demo", [
        ("tableau-de-bord", "/"), ("dossier", "case:repaying"),
        ("accompagnement", "/accompagnement/")]),
    "preteur": ("agent@credit-municipal.demo", [
        ("tableau-de-bord", "/"), ("prets", "/p/credit_municipal/loans"),
        ("portefeuille", "/p/credit_municipal/portfolio")]),
    "prescripteur": ("prescripteur@caf.demo", [
        ("tableau-de-bord", "/"), ("orientations", "/orientations/")]),
    "financeur": ("financeur@ville-toulouse.demo", [("bilan", "/bilans/financeurs")]),
}


def build_demo(database_url: str):
    from core.app import create_app
    from core.db import db
    from core.demo import create_demo
    from core.migrate import upgrade

    upgrade(database_url)
    app = create_app({"CCAS_DATABASE_URL": database_url, "CCAS_ENV": "development",
                      "CCAS_LOG_LEVEL": "WARNING"})
    with app.app_context():
        create_demo(db.session, password=PASSWORD)
        db.session.commit()
    return app


def case_of_state(app, state: str) -> str:
    from sqlalchemy import select

    from core import tenancy
    from core.db import db
    from core.models import Case, Tenant

    with app.app_context():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == SLUG))
        with tenancy.tenant_scope(tenant.id):
            case = db.session.scalar(select(Case).where(Case.state == state).limit(1))
            return f"/cases/{case.id}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(ROOT / "docs" / "screenshots" / "demo"))
    args = parser.parse_args()
    from core.testing import browser as browser_launch

    if browser_launch.chromium() is None:
        print("chromium est introuvable (paquet Debian « chromium »).", file=sys.stderr)
        return 1
    if (missing := browser_launch.french_missing()) is not None:
        print(missing, file=sys.stderr)
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        app = build_demo(f"sqlite:///{folder}/demo.sqlite3")
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}/t/{SLUG}"
        try:
            with sync_playwright() as p:
                browser = browser_launch.launch(p)  # in French: date inputs jj/mm/aaaa
                for role, (email, pages) in PAGES.items():
                    for width in (1280, 375):
                        context = browser.new_context(viewport={"width": width, "height": 900},
                                                      locale="fr-FR")
                        page = context.new_page()
                        page.goto(base + "/login")
                        page.get_by_label("Adresse e-mail").fill(email)
                        page.get_by_label("Mot de passe").fill(PASSWORD)
                        page.get_by_role("button", name="Se connecter").click()
                        page.wait_for_load_state()
                        for name, path in pages:
                            if path.startswith("case:"):
                                path = case_of_state(app, path.split(":", 1)[1])
                            page.goto(base + path)
                            target = output / f"{role}-{name}-{width}.jpg"
                            page.screenshot(path=str(target), full_page=True, type="jpeg",
                                            quality=70)
                            print(target.relative_to(ROOT) if target.is_relative_to(ROOT)
                                  else target)
                        context.close()
                browser.close()
        finally:
            server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
