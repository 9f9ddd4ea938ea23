"""The menu and the breadcrumb trail, grouped by section (pure functions).

The entries come from the hook ``ccas_nav_items`` (the core's features and the tenant's
plugins answer it, see ``core.web.context.nav_items``); each ``NavItem`` may name a
``section`` (a French label: the core's are in ``SECTIONS``). The header shows at most
``MAX_TOP_LEVEL`` entries: the sections, each leading to its first page, and the entries
that have no section; a second row lists the pages of the current section. Entries of the
section ``ACCOUNT`` go to the user's corner of the header instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..plugins.types import NavItem

CASES = "Dossiers"
ACTIVITY = "Activité"
REFERRALS = "Orientations"
LOANS = "Prêts"
REPORTS = "Bilans"
ADMINISTRATION = "Administration"
ACCOUNT = "Mon compte"
MORE = "Plus"
SECTIONS = (CASES, ACTIVITY, REFERRALS, LOANS, REPORTS, ADMINISTRATION, ACCOUNT)
MAX_TOP_LEVEL = 7


@dataclass(frozen=True)
class Entry:
    """One link of the menu. ``current``: the page shown is this entry (``"page"``) or one
    of its pages (``"section"``), else ``""``."""

    label: str
    url: str
    current: str = ""
    children: tuple[Entry, ...] = ()


@dataclass(frozen=True)
class Menu:
    top: tuple[Entry, ...]
    section: Entry | None  # the current section, its pages in ``children``
    account: tuple[Entry, ...]
    trail: tuple[Entry, ...]  # breadcrumb links above the current page, home first


def best_item(items: Iterable[NavItem], endpoint: str | None) -> NavItem | None:
    """The menu entry a page belongs to: its own, else the entry whose endpoint shares the
    longest prefix with it within the same blueprint (``cases.case`` belongs to
    ``cases.case_list``), the first in menu order on a tie."""
    if not endpoint:
        return None
    blueprint = endpoint.split(".", 1)[0]
    best, best_len = None, -1
    for item in items:
        if item.endpoint == endpoint:
            return item
        if item.endpoint.split(".", 1)[0] != blueprint:
            continue
        common = len(os.path.commonprefix([item.endpoint, endpoint]))
        if common > best_len:
            best, best_len = item, common
    return best


def build(items: list[NavItem], endpoint: str | None, url: Callable[[str], str],
          home: Entry | None = None) -> Menu:
    """Group ``items`` (already filtered for the user, in menu order) into the header's
    entries for the page ``endpoint``; ``url(endpoint)`` makes a link."""
    here = None if home is not None and home.current else best_item(items, endpoint)
    account = tuple(Entry(i.label, url(i.endpoint), _mark(i, here, endpoint))
                    for i in items if i.section == ACCOUNT)
    groups: dict[str, list[NavItem]] = {}
    order: list[tuple[int, str, str | NavItem]] = []
    for item in items:
        if item.section == ACCOUNT:
            continue
        if item.section:
            if item.section not in groups:
                groups[item.section] = []
                order.append((item.order, item.section, item.section))
            groups[item.section].append(item)
        else:
            order.append((item.order, item.label, item))
    order.sort(key=lambda o: (o[0], o[1]))

    top: list[Entry] = []
    current_section: Entry | None = None
    for _, _, what in order:
        if isinstance(what, NavItem):
            top.append(Entry(what.label, url(what.endpoint), _mark(what, here, endpoint)))
            continue
        children = tuple(Entry(i.label, url(i.endpoint), _mark(i, here, endpoint))
                         for i in groups[what])
        mark = "section" if any(c.current for c in children) else ""
        entry = Entry(what, children[0].url, mark, children)
        top.append(entry)
        if mark:
            current_section = entry
    if len(top) > MAX_TOP_LEVEL:
        kept, extra = top[:MAX_TOP_LEVEL - 1], top[MAX_TOP_LEVEL - 1:]
        children = tuple(c for e in extra for c in (e.children or (e,)))
        mark = "section" if any(c.current for c in children) else ""
        more = Entry(MORE, children[0].url, mark, children)
        if mark:
            current_section = more
        top = [*kept, more]

    steps: list[Entry] = [home] if home else []
    if here is not None:
        if current_section is not None and len(current_section.children) > 1:
            steps.append(Entry(current_section.label, current_section.url))
        steps.append(Entry(here.label, url(here.endpoint)))
    page_url = url(endpoint) if here is not None and here.endpoint == endpoint else None
    trail: list[Entry] = []
    for step in steps:  # no link to the page itself, no link twice
        if step.url != page_url and all(step.url != t.url for t in trail):
            trail.append(step)
    return Menu(tuple(top), current_section, account, tuple(trail))


def _mark(item: NavItem, here: NavItem | None, endpoint: str | None) -> str:
    if item.endpoint == endpoint:
        return "page"
    return "section" if item is here else ""
