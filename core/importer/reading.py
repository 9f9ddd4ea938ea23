"""Reading a legacy spreadsheet: CSV (``,`` ``;`` or tab; UTF-8 with or without BOM, or
Windows-1252) or XLSX (first sheet). Yields raw cell values with their line numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import UserError

DELIMITERS = (";", ",", "\t")


@dataclass
class Table:
    headers: list[str]
    #: ``(line number in the file, cells)``; the header is line 1.
    rows: list[tuple[int, list]]
    encoding: str | None = None
    delimiter: str | None = None


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding: UTF-8 (a BOM is dropped), else Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def detect_delimiter(header_line: str) -> str:
    """The delimiter among ``;`` ``,`` tab that splits the header into the most cells
    (ties: semicolon, the French spreadsheet default, first)."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ";"


def read_csv(data: bytes) -> Table:
    text, encoding = decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = detect_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = next(reader)
    except StopIteration as exc:
        raise UserError("Le fichier est vide.", status=422) from exc
    rows = []
    for cells in reader:
        if not "".join(cells).strip():  # a blank row
            continue
        rows.append((reader.line_num, cells))
    return Table([h.strip() for h in headers], rows, encoding, delimiter)


def read_xlsx(data: bytes) -> Table:
    # deferred: openpyxl takes about 0.16 s to import; only an XLSX file needs it
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the user's file
        raise UserError("Fichier XLSX illisible.", status=422) from exc
    try:
        sheet = workbook.worksheets[0]
        iterator: Iterator = sheet.iter_rows(values_only=True)
        try:
            headers = next(iterator)
        except StopIteration as exc:
            raise UserError("Le fichier est vide.", status=422) from exc
        rows = []
        for line, cells in enumerate(iterator, start=2):
            if not any(c not in (None, "") and str(c).strip() for c in cells):
                continue
            rows.append((line, list(cells)))
    finally:
        workbook.close()
    return Table([str(h).strip() if h is not None else "" for h in headers], rows)


def read_table(data: bytes, filename: str = "") -> Table:
    """CSV or XLSX, told apart by content (an XLSX is a ZIP file) or extension."""
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        return read_xlsx(data)
    return read_csv(data)
