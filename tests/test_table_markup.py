"""Every table of every page (the core's templates and the plugins') is reachable by
keyboard and named: on a phone (``ccas.css``, ``max-width: 40rem``) every table scrolls
sideways inside the page, and axe's ``scrollable-region-focusable`` asks that a region
that scrolls can take the focus; a table's caption is its name for a screen reader."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TABLE = re.compile(r"<table\b[^>]*>")


def _tables():
    for folder in ("core", "plugins"):
        for path in sorted((ROOT / folder).rglob("*.html")):
            text = path.read_text(encoding="utf-8")
            for match in TABLE.finditer(text):
                yield path.relative_to(ROOT), match, text


TABLES = list(_tables())


def test_the_templates_hold_tables():
    assert len(TABLES) > 50


@pytest.mark.parametrize("where", sorted({str(p) for p, _m, _t in TABLES}))
def test_every_table_takes_the_focus_and_has_a_caption(where):
    for path, match, text in TABLES:
        if str(path) != where:
            continue
        line = text.count("\n", 0, match.start()) + 1
        at = f"{path}:{line}: {match.group(0)}"
        assert 'tabindex="0"' in match.group(0), f"{at} takes no focus"
        assert text[match.end():].lstrip().startswith("<caption"), f"{at} has no caption"


def test_the_rule_sees_a_table_without_focus():
    text = "<table class='x'>\n<caption>c</caption></table>"
    match = TABLE.search(text)
    assert 'tabindex="0"' not in match.group(0)
