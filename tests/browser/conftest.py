"""Real-browser tests: Playwright driving Debian's Chromium against the real server.

The application under test is the test ``app`` (fresh, migrated database, emptied after
each test) served by werkzeug on a free loopback port in a thread. Every page visited is
checked with axe-core (shipped in axe-playwright-python): no violation of impact
"serious" or "critical". Set ``CCAS_SCREENSHOTS=1`` to refresh docs/screenshots/.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from core.testing import browser as browser_launch

CHROMIUM = browser_launch.chromium()
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
BLOCKING_IMPACTS = {"serious", "critical"}
#: The captions of the page's scrolling tables (``.table-wrap``, or the table itself on a
#: phone) whose text is not whole within what is shown of them (the wrapper's and the
#: table's boxes, the window), the table scrolled to its start, then to its end. A
#: visually hidden caption (read by screen readers only) is not looked at.
CAPTIONS_OUT_OF_VIEW = """() => {
  const out = [];
  for (const wrap of document.querySelectorAll('.table-wrap')) {
    const caption = wrap.querySelector('caption');
    if (!caption || caption.getBoundingClientRect().width <= 1) continue;  // none, or hidden
    const table = caption.closest('table');
    const scrollers = [wrap, table];
    for (const where of ['start', 'end']) {
      for (const s of scrollers) s.scrollLeft = where === 'start' ? 0 : s.scrollWidth;
      const boxes = scrollers.map(s => s.getBoundingClientRect());
      const left = Math.max(0, ...boxes.map(b => b.left));
      const right = Math.min(document.documentElement.clientWidth, ...boxes.map(b => b.right));
      const range = document.createRange();
      range.selectNodeContents(caption);
      const cut = [...range.getClientRects()].filter(
        r => r.width && (r.left < left - 1 || r.right > right + 1));
      if (cut.length) {
        out.push(`${caption.innerText.trim()} (${where}: ${Math.round(cut[0].left)} to `
                 + `${Math.round(cut[0].right)} px, shown ${Math.round(left)} to `
                 + `${Math.round(right)} px)`);
      }
    }
    for (const s of scrollers) s.scrollLeft = 0;
  }
  return out;
}"""


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            if CHROMIUM is None and not os.environ.get("CCAS_REQUIRE_BROWSER"):
                item.add_marker(pytest.mark.skip(reason="chromium not installed"))


@pytest.fixture(scope="session")
def playwright_browser():
    if CHROMIUM is None:
        pytest.fail("CCAS_REQUIRE_BROWSER is set but chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # in French (date inputs jj/mm/aaaa): core.testing.browser
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=[*browser_launch.ARGS, "--disable-quic"],
                                    env=browser_launch.french_env())
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


class Browser:
    """A page plus the checks every journey applies."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base = base_url
        self.checked: list[str] = []

    def goto(self, path: str):
        self.page.goto(self.base + path)
        self.check()
        return self.page

    def check(self, name: str | None = None) -> None:
        """axe-core on the current page: no serious or critical violation; a title and
        exactly one h1."""
        from axe_playwright_python.sync_playwright import Axe

        result = Axe().run(self.page)
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n["target"][0] for n in v["nodes"][:3])
            for v in result.response["violations"]
            if v.get("impact") in BLOCKING_IMPACTS
        ]
        assert not bad, f"accessibility violations on {self.page.url}:\n" + "\n".join(bad)
        assert self.page.title().strip(), f"no <title> on {self.page.url}"
        assert self.page.locator("h1").count() == 1, f"not exactly one h1 on {self.page.url}"
        self.checked.append(self.page.url)
        if name:
            self.screenshot(name)

    def captions_out_of_view(self) -> list[str]:
        """The captions of the page's tables that a narrow screen cuts: their text must
        stay whole within the table's scrolling wrapper, however far it is scrolled."""
        return self.page.evaluate(CAPTIONS_OUT_OF_VIEW)

    def screenshot(self, name: str) -> None:
        if os.environ.get("CCAS_SCREENSHOTS"):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def menu(self, section: str, page: str | None = None):
        """Follow the header's menu: a section (or an entry of its own) of the main
        navigation, then one of the section's pages in the second row."""
        self.page.locator("nav.main-nav").get_by_role("link", name=section, exact=True).click()
        self.page.wait_for_load_state()
        if page is not None:
            self.page.locator("nav.sub-nav").get_by_role("link", name=page, exact=True).click()
            self.page.wait_for_load_state()
        self.check()
        return self.page

    def login(self, email: str, password: str, slug: str | None = None):
        path = f"/t/{slug}/login" if slug else "/operator/login"
        self.goto(path)
        self.page.get_by_label("Adresse e-mail").fill(email)
        self.page.get_by_label("Mot de passe").fill(password)
        self.page.get_by_role("button", name="Se connecter").click()
        self.page.wait_for_load_state()


@pytest.fixture
def browser(playwright_browser, live_server):
    context = playwright_browser.new_context(viewport={"width": 1280, "height": 900},
                                             locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield Browser(page, live_server)
    finally:
        context.close()


@pytest.fixture
def mobile_browser(playwright_browser, live_server):
    context = playwright_browser.new_context(viewport={"width": 375, "height": 740},
                                             locale="fr-FR", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield Browser(page, live_server)
    finally:
        context.close()
