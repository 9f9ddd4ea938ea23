"""The no-raw-code crawl: every role, in the populated demo, every page it can reach by
following links (one page per route), read as a person would.

A page fails on: a visible code (``snake_case``, an English report key or status), a
code the page marks as having no label (``data-unlabelled``: an audit action or object type), an
``org:`` or uuid identifier, a sum of euros with a decimal point, a "(s)" plural,
marshmallow's English; at 375 px it must not scroll sideways nor cut a table's caption
(at 1280 px no table's wrapper squeezed); axe must find nothing
serious or critical (the ``Browser.check`` of conftest), one ``h1`` and a title. The
pages crawled per role are printed (``-s``) for the notes.
"""

from __future__ import annotations

import os
import re
import threading
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

from core import demo
from core.app import create_app
from core.db import db

from .conftest import CAPTIONS_OUT_OF_VIEW, Browser

# One database is enough for what a page says (CI runs the suite on both): SQLite only.
pytestmark = pytest.mark.skipif(bool(os.environ.get("CCAS_TEST_POSTGRES_URL")),
                                reason="the crawl runs on the SQLite pass of CI")

SLUG = "toulouse"
ROLES = {
    "manager": "responsable@ccas-toulouse.demo",
    "secretary": "secretariat@ccas-toulouse.demo",
    "social_worker": "as@ccas-toulouse.demo",
    "lender_agent": "agent@credit-municipal.demo",
    "referrer": "prescripteur@caf.demo",
    "funder": "financeur@ville-toulouse.demo",
}
MAX_PAGES = 45  # per role: one page per route is enough, the crawl stays in CI's budget

# Visible text that is a code, not French. Words that are French too are not listed.
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
ENGLISH = re.compile(
    r"\b(granted|disbursed|outstanding|pending|declined|annuity|linear|mobility|housing|"
    r"debts|in_progress|amount_lent|referrals_in|Missing data|Not a valid|Unknown field|"
    r"Field may not|Unprocessable|Source credit_municipal)\b")
IDS = re.compile(r"\borg:|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
DOT_EUROS = re.compile(r"\b\d+\.\d{1,2}\s?€")
PLURAL_S = re.compile(r"\w\((?:s|es|x)\)")  # "(e)" is the administrative inclusive form

# The page's text, less what is shown as code on purpose (a spreadsheet's column names to
# type, the audit journal's technical details).
VISIBLE_TEXT = """() => { const body = document.body.cloneNode(true);
  body.querySelectorAll("code, kbd, samp, script, style, template").forEach(e => e.remove());
  return body.textContent; }"""
# A code shown without its label, marked so by the page (the audit journal's actions:
# ``core.web.filters.audit_action``): its French default reads well, so only the mark
# tells that a label is missing.
UNLABELLED = "els => els.map(e => e.dataset.unlabelled)"
# The scrolling wrappers of tables squeezed narrower than 10rem at 1280 px (a wrapper's
# width must come from its container, never from what it holds: see ccas.css).
SQUEEZED_TABLES = """() => [...document.querySelectorAll('.table-wrap')]
  .filter(w => w.getClientRects().length && w.getBoundingClientRect().width < 160)
  .map(w => (w.querySelector('caption') || w).innerText.trim().slice(0, 60))"""
SKIP = re.compile(r"/(logout|deconnexion)\b|\.(pdf|csv|xlsx|json|md|zip|ics|txt)\b|/export|"
                  r"/telecharger|format=|/api/|/password/|/login")
ID_SEGMENT = re.compile(r"/(?:[0-9a-f]{8}-[0-9a-f-]{27}|[0-9a-f]{32}|\d+|\d{4}-\d{5})(?=/|$)")


#: A list sorted otherwise is the same page (its headers' links would eat the crawl's
#: budget of pages; tests/browser/test_page_layouts.py checks a sorted list).
SORT_KEYS = {"sort", "dir"}


def route_of(url: str) -> str:
    """``/t/x/cases/<uuid>/budget?state=a`` → ``/t/x/cases/<id>/budget?state`` (one page
    per route and set of query keys)."""
    parts = urlsplit(url)
    keys = ",".join(sorted({k for k, _v in parse_qsl(parts.query, keep_blank_values=True)}
                           - SORT_KEYS))
    return ID_SEGMENT.sub("/<id>", parts.path) + (f"?{keys}" if keys else "")


def problems_in(text: str) -> list[str]:
    found = []
    for name, pattern in (("code", SNAKE), ("anglais", ENGLISH), ("identifiant", IDS),
                          ("point décimal", DOT_EUROS), ("pluriel (s)", PLURAL_S)):
        hits = sorted({m.group(0) for m in pattern.finditer(text)})
        if hits:
            found.append(f"{name}: {hits[:5]}")
    return found


def test_the_patterns_catch_what_they_name():
    assert problems_in("Né(e) le 04/12/1990") == []
    assert problems_in("Statut : granted, 1 dossier(s), 300.00 €, org:3e1814e7") == [
        "anglais: ['granted']", "identifiant: ['org:']", "point décimal: ['300.00 €']",
        "pluriel (s): ['r(s)']"]
    assert problems_in("city_subsidy_cost") == ["code: ['city_subsidy_cost']"]
    assert problems_in("1 234,56 € et 3,04 %, le 04/12/2026") == []
    assert route_of("http://h/t/x/cases/6026226c-e179-4dfe-8d8e-1660f69a119c/budget?a=1&b=") \
        == "/t/x/cases/<id>/budget?a,b"
    assert route_of("http://h/t/x/cases/?sort=amount&dir=asc&state=intake") \
        == "/t/x/cases/?state"


@pytest.fixture(scope="module")
def demo_server(ccas_database):
    """The populated demo (CSRF on, like production) served on a free port."""
    from werkzeug.serving import make_server

    app = create_app(ccas_database.app_config(
        SECRET_KEY="test-secret", WTF_CSRF_ENABLED=True, CCAS_BASE_URL="http://localhost",
        RATELIMIT_ENABLED=False))
    with app.app_context():
        demo.create_demo(db.session, password="demo-ccas-2026")
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        ccas_database.empty()


def crawl(browser: Browser, start: str) -> tuple[list[str], dict[str, list[str]]]:
    page = browser.page
    seen_routes: set[str] = set()
    queue = [start]
    visited, problems = [], {}
    while queue and len(visited) < MAX_PAGES:
        url = queue.pop(0)
        route = route_of(url)
        if route in seen_routes:
            continue
        seen_routes.add(route)
        try:
            response = page.goto(url)
        except PlaywrightError as exc:  # a file to download, not a page
            if "Download is starting" in str(exc):
                continue
            raise
        if response is None or response.status >= 400 or not page.url.startswith(browser.base):
            problems[route] = [f"statut {response.status if response else '?'}"]
            continue
        visited.append(route)
        found = []
        try:
            browser.check()
        except AssertionError as exc:
            found.append(str(exc).splitlines()[0] + " " + " ".join(str(exc).splitlines()[1:3]))
        found += problems_in(page.evaluate(VISIBLE_TEXT))
        unlabelled = sorted(set(page.eval_on_selector_all("[data-unlabelled]", UNLABELLED)))
        if unlabelled:
            found.append(f"sans libellé: {unlabelled[:5]}")
        squeezed = page.evaluate(SQUEEZED_TABLES)
        if squeezed:
            found.append(f"tableau écrasé à 1280 px: {squeezed[:3]}")
        page.set_viewport_size({"width": 375, "height": 740})
        width = page.evaluate("document.documentElement.scrollWidth")
        cut = page.evaluate(CAPTIONS_OUT_OF_VIEW)
        page.set_viewport_size({"width": 1280, "height": 900})
        if width > 375:
            found.append(f"défilement horizontal à 375 px ({width} px)")
        if cut:
            found.append(f"légende de tableau coupée à 375 px: {cut[:3]}")
        if found:
            problems[route] = found
        for href in page.eval_on_selector_all(
                "a[href]:not([download])", "els => els.map(e => e.href)"):
            href = href.split("#", 1)[0]
            if href.startswith(browser.base + f"/t/{SLUG}/") and not SKIP.search(href) \
                    and route_of(href) not in seen_routes:
                queue.append(href)
    return visited, problems


@pytest.mark.parametrize("role", list(ROLES))
def test_no_raw_code_on_any_page_a_role_reaches(role, demo_server, playwright_browser):
    context = playwright_browser.new_context(viewport={"width": 1280, "height": 900},
                                             locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    browser = Browser(page, demo_server)
    try:
        browser.login(ROLES[role], "demo-ccas-2026", slug=SLUG)
        visited, problems = crawl(browser, page.url)
    finally:
        context.close()
    print(f"\n{role}: {len(visited)} pages crawled")
    for route in visited:
        print("   ", route)
    assert len(visited) >= 3, visited
    assert not problems, "\n".join(f"{r}: {p}" for r, p in problems.items())
