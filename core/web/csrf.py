"""The application's CSRF protection (Flask-WTF). Every form post carries a token; a view
is exempted only explicitly, one by one: the token-authenticated JSON views
(``core.api.auth.token_authenticated``), where no cookie is read."""

from __future__ import annotations

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
