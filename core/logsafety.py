"""Keep secrets and personal data out of the logs.

* SQL parameters are never logged, even with SQL echo on, and never appear in database
  error messages (``hide_parameters``): they carry password hashes, TOTP secrets,
  e-mail bodies with reset links, and people's names.
* Result rows are never logged (SQLAlchemy logs them at DEBUG level).
* The application never logs a request body, a password, an ``Authorization`` header or
  a token: rate-limit keys are hashed (``core.accounts.throttle``), errors log their type only.
"""

from __future__ import annotations

import logging

from flask import Flask


class NoRowValues(logging.Filter):
    """Drop SQLAlchemy's ``Row (...)`` debug records (they hold row values)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Row "))


_FILTER = NoRowValues()


def init_app(app: Flask) -> None:
    app.extensions["ccas_engine"].hide_parameters = True
    logger = logging.getLogger("sqlalchemy.engine.Engine")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
