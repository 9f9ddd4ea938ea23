"""JSON API ``/api/v1``: bearer-token authentication view by view (``auth``),
problem+json errors (``core.errors``), OpenAPI generated from the views' docstrings and
the marshmallow schemas (``openapi``). The route modules add their views to the one
blueprint (``blueprint.bp``); importing this package registers them all. A plugin's API
routes are mounted under ``/api/v1/p/<plugin>/`` (hook ``ccas_api_blueprints``).
"""

from __future__ import annotations

from . import cases, documents, household, loans, meta, referrals, synthesis
from .blueprint import bp

__all__ = ["bp", "cases", "documents", "household", "loans", "meta", "referrals", "synthesis"]
