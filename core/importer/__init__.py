"""Import of a city's legacy spreadsheets (CSV or XLSX, French headers) as cases with
their dated history. Columns and rules: ``core.importer.columns`` and ``docs/reports.md``.
"""

from __future__ import annotations

from .rows import ImportRow, RowError
from .service import ImportResult, rejects_csv, run_import

__all__ = ["ImportResult", "ImportRow", "RowError", "rejects_csv", "run_import"]
