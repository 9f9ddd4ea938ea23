"""The WSGI application for production servers: ``gunicorn -c python:core.gunicorn_conf
core.wsgi:app`` (``docs/deployment.md``). Configured from the ``CCAS_*`` environment
variables; an unsafe configuration (no secret key, SQLite in production) stops the start
with its reason."""

from __future__ import annotations

from .app import create_app

app = create_app()
