"""The ``/api/v1`` blueprint: every route module of the API adds its views to it."""

from __future__ import annotations

from flask import Blueprint, current_app, request

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
    parameters = _query_parameters(rule, request.method.lower())
    if parameters is None:
        return
    documented, empty_invalid = parameters
    unknown = sorted(set(request.args) - documented)
    if unknown:
        raise UserError(f"Paramètre inconnu : {unknown[0]!r}.", status=400, field=unknown[0],
                        message_en="Unknown query parameter.")
    for name in empty_invalid:
        if request.args.get(name) == "":
            raise UserError(f"Paramètre vide : {name!r} (retirez-le ou donnez une valeur).",
                            status=400, field=name, message_en="Empty query parameter.")


def _query_parameters(rule, method: str) -> tuple[frozenset, tuple] | None:
    """The query parameters the OpenAPI document gives the operation (``None`` if it has
    none documented), and those of them an empty value is invalid for, in the document's
    order: read from the document once per operation and application."""
    cache = current_app.extensions.setdefault("ccas_api_query_parameters", {})
    key = (rule.rule, method)
    if key not in cache:
        operation = openapi.document().get("paths", {}).get(openapi.path_of(rule), {}).get(
            method)
        if operation is None:
            cache[key] = None
        else:
            documented = {p["name"]: p.get("schema", {})
                          for p in operation.get("parameters", []) if p.get("in") == "query"}
            cache[key] = (frozenset(documented), tuple(
                name for name, schema in documented.items() if _empty_is_invalid(schema)))
    return cache[key]


def _empty_is_invalid(schema: dict) -> bool:
    """An empty value is not one of the codes, dates, numbers the parameter takes."""
    return ("enum" in schema or schema.get("type") == "integer"
            or schema.get("format") in ("date", "date-time", "uuid")
            or ("pattern" in schema and schema["pattern"].startswith("^(")))


@bp.after_request
def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    return response
