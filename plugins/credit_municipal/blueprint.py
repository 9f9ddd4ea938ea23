"""The lender's pages, mounted by the core under /t/<tenant>/p/credit_municipal/ and
answering 404 for tenants that have not enabled the plugin."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("credit_municipal", __name__, template_folder="templates")
