"""JSON-ready values, written as the API's marshmallow schemas write them.

The hot documents (a case, a referral) are built as dicts of Python values and passed
through :func:`plain` instead of ``Schema.dump``: marshmallow's per-field dispatch cost
more than the rest of a list page. The schemas stay the contract (OpenAPI, inputs); a
test per document checks that both give the same JSON. The application's JSON provider
(:class:`JSONProvider`) writes those values the same way, so a view may hand the Python
values to ``jsonify`` and let the C encoder walk them: no walk in Python at all.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from flask.json.provider import DefaultJSONProvider

#: Values JSON takes as they are, and how ``plain`` writes the others, by exact type.
_AS_IS = frozenset({str, int, bool, float, type(None)})
_WRITTEN = {uuid.UUID: str, Decimal: lambda d: format(d, "f"),
            date: date.isoformat, datetime: datetime.isoformat}


def plain(value):
    """``value`` with UUIDs, decimals, dates and times as marshmallow's fields of
    ``CaseSchema`` write them (``str``, ``format(d, "f")``, ISO 8601). A list page
    converts thousands of values: the common types are dispatched on their exact type
    without a call per scalar."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:
        return {k: v if type(v) in _AS_IS else plain(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _AS_IS else plain(v) for v in value]
    write = _WRITTEN.get(kind)
    if write is not None:
        return write(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, str | int | float | bool):  # subclasses (enums on str…)
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):  # datetime included
        return value.isoformat()
    return str(value)



def json_default(value):
    """What the JSON encoder calls for a value it does not know: the same text as
    :func:`plain` for UUIDs, decimals, dates and times (Flask's default would write a
    date as an HTTP date); anything else as Flask writes it (dataclasses…)."""
    write = _WRITTEN.get(type(value))
    if write is not None:
        return write(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):  # datetime included
        return value.isoformat()
    return DefaultJSONProvider.default(value)


class JSONProvider(DefaultJSONProvider):
    """The application's JSON: dates in ISO 8601, decimals as written (``"1500.00"``)."""

    default = staticmethod(json_default)
