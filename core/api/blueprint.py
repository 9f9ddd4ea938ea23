"""The ``/api/v1`` blueprint: every route module of the API adds its views to it."""

from __future__ import annotations

from flask import Blueprint, request

from ..errors import UserError
from . import openapi

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def _known_parameters_only():
    """A query parameter the operation does not document is refused (400), not ignored:
    a misspelt filter must not silently return everything."""
    if not request.args:
        return
    rule = request.url_rule
    if rule is None:
        return
    path = openapi.path_of(rule)
    operation = openapi.document().get("paths", {}).get(path, {}).get(
        request.method.lower())
    if operation is None:
        return
    documented = {p["name"]: p.get("schema", {}) for p in operation.get("parameters", [])
                  if p.get("in") == "query"}
    unknown = sorted(set(request.args) - set(documented))
    if unknown:
        raise UserError(f"Paramètre inconnu : {unknown[0]!r}.", status=400, field=unknown[0],
                        message_en="Unknown query parameter.")
    for name, schema in documented.items():
        if request.args.get(name) == "" and _empty_is_invalid(schema):
            raise UserError(f"Paramètre vide : {name!r} (retirez-le ou donnez une valeur).",
                            status=400, field=name, message_en="Empty query parameter.")


def _empty_is_invalid(schema: dict) -> bool:
    """An empty value is not one of the codes, dates, numbers the parameter takes."""
    return ("enum" in schema or schema.get("type") == "integer"
            or schema.get("format") in ("date", "date-time", "uuid")
            or ("pattern" in schema and schema["pattern"].startswith("^(")))


@bp.after_request
def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    return response
