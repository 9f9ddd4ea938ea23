"""What the API's views share once authenticated: the caller's role and a 201 answer.
A refused change needs nothing here: the ``UserError`` handler rolls the request's
session back (``core.errors``), so a view just lets the error through."""

from __future__ import annotations

from flask import Response, jsonify
from flask_login import current_user


def caller_role() -> str:
    """The role of the token's user."""
    return str(current_user.role)


def created(body, location: str | None = None) -> Response:
    """``201 Created`` with ``body`` as JSON (and its ``Location`` when given)."""
    response = jsonify(body)
    response.status_code = 201
    if location:
        response.headers["Location"] = location
    return response
