"""``core.app.CcasFlask.ensure_sync``: a plain function (request hook, view, error
handler) is remembered once and returned as it is; anything else is asked to Flask each
time."""

from __future__ import annotations

from contextlib import nullcontext

import pytest

from core.app import CcasFlask


def test_a_plain_function_is_remembered_and_returned_as_it_is(app, client):
    assert isinstance(app, CcasFlask)
    client.get("/healthz")
    known = len(app._sync_functions)
    assert known > 0  # the hooks and the view of that request
    for _ in range(3):
        client.get("/healthz")
    assert len(app._sync_functions) == known  # nothing more per request

    def plain():
        return 1

    assert app.ensure_sync(plain) is plain and plain in app._sync_functions
    assert app.ensure_sync(plain) is plain


def test_a_coroutine_function_is_never_remembered(app):
    async def coroutine():
        return 1

    try:
        synced = app.ensure_sync(coroutine)
    except RuntimeError:  # Flask's async extra not installed: refused, as by Flask
        synced = None
    assert synced is not coroutine and coroutine not in app._sync_functions
    with pytest.raises(RuntimeError) if synced is None else nullcontext():
        app.ensure_sync(coroutine)  # asked again: the same answer as the first time

