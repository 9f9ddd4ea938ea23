"""The tenant's organisations read once while the reorientation destinations are gathered.

``workflow.destinations()`` asks every enabled plugin and the core's referrals for their
destinations; each used to read the organisations it stands for (one query per partner
plugin, one for the partners). Inside :func:`read_once`, the first asker reads the
tenant's organisations (a few dozen rows) and the others filter that list. Outside it,
:func:`organisations` answers ``None`` and callers query as before. Nothing is written
while destinations are gathered, so the list cannot go stale within the block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import select

from .models import Organisation

_memo: ContextVar[dict | None] = ContextVar("ccas_organisation_list", default=None)


@contextmanager
def read_once() -> Iterator[None]:
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def organisations(session) -> list[Organisation] | None:
    """The current tenant's organisations by name, read once per :func:`read_once` block
    (``None`` outside one). Tenant-scoped like every ORM read (``core.tenancy``)."""
    memo = _memo.get()
    if memo is None:
        return None
    if "rows" not in memo:
        memo["rows"] = list(session.scalars(select(Organisation).order_by(Organisation.name)))
    return memo["rows"]
