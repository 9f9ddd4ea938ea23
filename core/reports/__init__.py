"""Reports: the yearly review (``yearly``), its SQL aggregates (``queries``), the funder
view (``suppression``), exports (``export``) and SVG charts (``charts``).

Definitions of every figure: ``core.reports.definitions`` and ``docs/reports.md``.
"""

from __future__ import annotations

from .suppression import funder_view
from .yearly import build_report

__all__ = ["build_report", "funder_view"]
