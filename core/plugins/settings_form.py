"""A plugin's settings form, built from its marshmallow settings schema: the widgets of
the manager's settings page and the parsing of what the browser sends back. No JSON box:
every field gets the widget its type and metadata call for.

Inference (a field's ``metadata["widget"]`` overrides it):

==============================================  ============================================
field                                           widget
==============================================  ============================================
``Boolean``                                     ``checkbox``
``Decimal`` (``settings_fields.money``)         ``money``: French decimal, unit "€"
``Decimal`` (``settings_fields.percent``)       ``percent``: French decimal, unit "%"
other ``Decimal``/``Float``                     ``decimal``
``Integer``                                     ``integer`` (``metadata["unit"]``: "mois"…)
``String`` validated by ``OneOf``               ``radio`` (4 choices or fewer) or ``select``
``List(String)`` validated by ``OneOf``         ``choices``: a group of checkboxes
other ``List(String)``                          ``words``: a text area, one per line
``List(Nested(Schema))``                        ``rows``: repeated fieldsets, a blank one to
                                                add, a "remove" box on each
``Email``                                       ``email``
anything else                                   ``text``
==============================================  ============================================

Metadata keys read (all optional): ``label`` and ``description`` (the help text: keep it
true for every city), ``widget``, ``unit``, ``choices`` (``{code: French label}``) or
``vocabulary`` (a ``core.labels`` vocabulary, e.g. ``"purpose"``) for the labels of the
choices, ``row_label`` (the legend of one row of a ``rows`` field). See docs/plugins.md.

Pure functions of the schema and the form data (a ``MultiDict``-like object with
``get``/``getlist``): no request, no session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from marshmallow import Schema, validate
from marshmallow import fields as mf
from marshmallow.utils import missing

from .. import formats, labels

#: A number as people type it: optional minus, digits grouped by spaces or not, a comma or
#: a point before the decimals. ASCII digits only.
_NUMBER = re.compile(r"-?(?:[0-9]{1,3}(?: [0-9]{3})+|[0-9]+)(?:[.,][0-9]+)?")
_INTEGER = re.compile(r"-?[0-9]+")
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\t": " "})
MAX_DIGITS = 15
REMOVE = "remove"


@dataclass
class Widget:
    name: str          # the form field's name (``aid_rules-0-code`` inside a row)
    key: str           # the schema field's name
    kind: str
    label: str
    help: str = ""
    unit: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: object = None  # what the widget shows: text, a bool, a list of codes
    rows: list[list[Widget]] = field(default_factory=list)  # ``rows`` only
    row_label: str = ""
    required: bool = False


# -- inference --------------------------------------------------------------------------------


def _one_of(f) -> list[str] | None:
    for v in (f.validators or []):
        if isinstance(v, validate.OneOf):
            return [str(c) for c in v.choices]
    return None


def _choice_labels(f, codes: list[str]) -> list[tuple[str, str]]:
    meta = f.metadata
    given = meta.get("choices") or {}
    vocabulary = meta.get("vocabulary")
    out = []
    for code in codes:
        text = given.get(code)
        if text is None and vocabulary:
            text = labels.label(vocabulary, code)
        out.append((code, text if text is not None else code))
    return out


def kind_of(f) -> str:
    widget = f.metadata.get("widget")
    if widget:
        return widget
    if isinstance(f, mf.Boolean):
        return "checkbox"
    if isinstance(f, (mf.Decimal, mf.Float)):
        return "decimal"
    if isinstance(f, mf.Integer):
        return "integer"
    if isinstance(f, mf.Email):
        return "email"
    if isinstance(f, mf.List):
        inner = f.inner
        if isinstance(inner, mf.Nested):
            return "rows"
        return "choices" if _one_of(inner) else "words"
    if isinstance(f, mf.String) and _one_of(f):
        return "radio" if len(_one_of(f)) <= 4 else "select"
    return "text"


def _codes(f, kind: str) -> list[str]:
    if kind == "choices":
        return _one_of(f.inner) or []
    if kind in ("radio", "select"):
        return _one_of(f) or list(f.metadata.get("choices") or {})
    return []


def _nested_schema(f) -> Schema:
    nested = f.inner.nested
    return nested() if isinstance(nested, type) else nested


# -- showing values ----------------------------------------------------------------------------


def show(kind: str, value) -> object:
    """A stored value as its widget shows it: ``Decimal("3.04")`` → ``"3,04"``, a list of
    words → one per line, ``None`` → ``""``."""
    if kind == "checkbox":
        return value in (True, "on", "true", "1")
    if kind == "choices":
        return [str(v) for v in (value or [])] if isinstance(value, (list, tuple)) else []
    if value is None:
        return ""
    if kind == "words":
        return "\n".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
    if kind in ("money", "percent", "decimal"):
        if isinstance(value, str) and parse_number(value) is None:
            return value  # what the person typed, refused: shown back as it was
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            return str(value)  # what the person typed, shown back as it was
        if not number.is_finite():
            return str(value)
        places = 2 if kind in ("money", "percent") else max(0, -number.as_tuple().exponent)
        return formats.number(number, places).replace(formats.THIN, " ")
    return str(value)


def describe(schema: Schema | type, values: dict | None = None, prefix: str = "",
             extra_rows: int = 1) -> list[Widget]:
    """The widgets of ``schema``'s fields showing ``values`` (stored or as typed)."""
    schema = schema() if isinstance(schema, type) else schema
    values = values or {}
    out = []
    for key, f in schema.fields.items():
        kind = kind_of(f)
        meta = f.metadata
        widget = Widget(
            name=f"{prefix}{key}", key=key, kind=kind, label=meta.get("label", key),
            help=meta.get("description", ""),
            unit=meta.get("unit", {"money": "€", "percent": "%"}.get(kind, "")),
            choices=_choice_labels(f, _codes(f, kind)),
            required=bool(f.required),
        )
        value = values.get(key, _default(f))
        if kind == "rows":
            inner = _nested_schema(f)
            rows = value if isinstance(value, list) else []
            widget.rows = [describe(inner, row if isinstance(row, dict) else {},
                                    f"{prefix}{key}-{i}-") for i, row in enumerate(rows)]
            widget.rows += [describe(inner, _blank(inner), f"{prefix}{key}-{len(rows) + i}-")
                            for i in range(extra_rows)]
            widget.row_label = meta.get("row_label", widget.label)
        else:
            widget.value = show(kind, value)
        out.append(widget)
    return out


def _default(f):
    default = f.load_default
    return default() if callable(default) else (None if default is missing else default)


def _blank(schema: Schema) -> dict:
    return {key: (False if isinstance(f, mf.Boolean) else None)
            for key, f in schema.fields.items()}


# -- parsing what the browser sends ---------------------------------------------------------


def parse_number(text: str) -> str | None:
    """``"1 234,5"`` → ``"1234.5"``; ``None`` when it is not a number written in figures
    (``"1e6"``, ``"NaN"``, ``"１２"``, ``"abc"``, more than :data:`MAX_DIGITS` digits)."""
    text = re.sub(r" +", " ", (text or "").translate(_SPACES).strip())
    text = text.removesuffix("€").removesuffix("%").strip()
    if not _NUMBER.fullmatch(text):
        return None
    plain = text.replace(" ", "").replace(",", ".")
    if sum(c.isdigit() for c in plain) > MAX_DIGITS:
        return None
    return plain


NUMBER_ERRORS = {
    "money": "Montant invalide : écrivez-le en chiffres, par exemple 1 200,50.",
    "percent": "Pourcentage invalide : écrivez-le en chiffres, par exemple 3,04.",
    "decimal": "Nombre invalide : écrivez-le en chiffres, par exemple 12,5.",
    "integer": "Nombre entier attendu, écrit en chiffres, par exemple 36.",
}


def parse(schema: Schema | type, form, prefix: str = "") -> tuple[dict, dict]:
    """``(data for the schema, errors by form field name)`` from the submitted ``form``.
    Only the fields present in the schema are read; text is stripped."""
    schema = schema() if isinstance(schema, type) else schema
    data: dict = {}
    errors: dict = {}
    for key, f in schema.fields.items():
        name = f"{prefix}{key}"
        kind = kind_of(f)
        if kind == "checkbox":
            data[key] = form.get(name) in ("on", "true", "1", "oui")
        elif kind == "choices":
            data[key] = [v for v in form.getlist(name) if v]
        elif kind == "words":
            lines = [line.strip() for line in (form.get(name) or "").splitlines()]
            data[key] = [line for line in lines if line]
        elif kind == "rows":
            rows, row_errors = _parse_rows(_nested_schema(f), form, f"{name}-")
            data[key] = rows
            errors.update(row_errors)
        else:
            raw = (form.get(name) or "").strip()
            if raw == "":
                if f.allow_none:
                    data[key] = None
                elif not f.required:
                    continue  # the stored value (or the default) stays
                else:
                    data[key] = raw
            elif kind in NUMBER_ERRORS:
                number = (raw.translate(_SPACES).replace(" ", "")
                          if kind == "integer" else parse_number(raw))
                if number is None or (kind == "integer" and not _INTEGER.fullmatch(number)) \
                        or len(number) > MAX_DIGITS + 2:
                    errors[name] = [NUMBER_ERRORS[kind]]
                    data[key] = raw  # shown back as typed (nothing is stored on an error)
                else:
                    data[key] = number
            else:
                data[key] = raw
    return data, errors


def _row_indices(form, prefix: str) -> list[int]:
    found = set()
    for name in form:
        if name.startswith(prefix):
            head = name[len(prefix):].split("-", 1)[0]
            if head.isdigit() and len(head) < 4:
                found.add(int(head))
    return sorted(found)


def _parse_rows(schema: Schema, form, prefix: str) -> tuple[list, dict]:
    """The rows of a ``rows`` field, in order, without the removed and the blank ones.
    The kept rows are numbered again from 0, as the page shows them back, and so are the
    names their errors are keyed by (``aid_rules-1-code``)."""
    rows, errors = [], {}
    for index in _row_indices(form, prefix):
        row_prefix = f"{prefix}{index}-"
        if form.get(f"{row_prefix}{REMOVE}"):
            continue
        row, row_errors = parse(schema, form, row_prefix)
        if _is_blank(schema, row) and not row_errors:
            continue
        shown = f"{prefix}{len(rows)}-"
        rows.append(row)
        errors.update({shown + name[len(row_prefix):]: m for name, m in row_errors.items()})
    return rows, errors


def _is_blank(schema: Schema, row: dict) -> bool:
    for key, f in schema.fields.items():
        value = row.get(key)
        if isinstance(f, mf.Boolean):
            continue
        if value not in (None, "", [], ()):
            return False
    return True


def form_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages → ``{form field name: [messages]}``:
    ``{"aid_rules": {1: {"code": [...]}}}`` → ``{"aid_rules-1-code": [...]}``; the
    messages of a list of plain values (``{"allowed_purposes": {0: [...]}}``) go to the
    list's own name."""
    out: dict[str, list[str]] = {}
    for key, value in (messages or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            if value and all(isinstance(k, int) for k in value) and not any(
                    isinstance(v, dict) for v in value.values()):
                out[name] = sorted({str(m) for v in value.values()
                                    for m in (v if isinstance(v, list) else [v])})
            else:
                out.update(form_errors(value, f"{name}-"))
        else:
            out[name] = [str(m) for m in (value if isinstance(value, list) else [value])]
    return out
