"""The application's CSRF protection (Flask-WTF). Every form post carries a token; a view
is exempted only explicitly, one by one: the token-authenticated JSON views
(``core.api.auth.token_authenticated``), where no cookie is read."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect, generate_csrf

csrf = CSRFProtect()


def _token_per_page() -> dict:
    """The templates' ``csrf_token()``, asked of Flask-WTF once per page rendered rather
    than once per form: ``generate_csrf`` answers the same token all the request long,
    but finds it through half a dozen context-local lookups on every call, and a case
    page has a dozen forms. A macro imported without context keeps Flask-WTF's global."""
    token = None

    def csrf_token() -> str:
        nonlocal token
        if token is None:
            token = generate_csrf()
        return token

    return {"csrf_token": csrf_token}


def init_app(app: Flask) -> None:
    """Flask-WTF's protection, and the templates' token once per page."""
    csrf.init_app(app)
    app.context_processor(_token_per_page)
