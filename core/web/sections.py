"""Extension points of the core's own pages for core features (plugins use hooks).

A core feature adds a block to the case page, the dashboard or the menu by registering
here at import time; ``core.web`` renders what is registered, in ``order``, for the roles
listed. Keeps features out of each other's templates.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    """``template`` is rendered with the page's context (``case`` on the case page)."""

    name: str
    template: str
    roles: frozenset[str]
    order: int = 100


@dataclass(frozen=True)
class CoreNavItem:
    label: str
    endpoint: str
    roles: frozenset[str]
    order: int = 100


CASE_SECTIONS: list[Section] = []
DASHBOARD_SECTIONS: list[Section] = []
NAV_ITEMS: list[CoreNavItem] = []


def _add(registry: list, item) -> None:
    if all(existing.__dict__ != item.__dict__ for existing in registry):
        registry.append(item)
        registry.sort(key=lambda s: (s.order, getattr(s, "name", getattr(s, "label", ""))))


def case_section(name: str, template: str, roles, order: int = 100) -> None:
    _add(CASE_SECTIONS, Section(name, template, frozenset(roles), order))


def dashboard_section(name: str, template: str, roles, order: int = 100) -> None:
    _add(DASHBOARD_SECTIONS, Section(name, template, frozenset(roles), order))


def nav_item(label: str, endpoint: str, roles, order: int = 100) -> None:
    _add(NAV_ITEMS, CoreNavItem(label, endpoint, frozenset(roles), order))


def for_role(registry: list, role: str) -> list:
    return [s for s in registry if role in s.roles]
