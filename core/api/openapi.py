"""OpenAPI 3 document generated with apispec from the marshmallow schemas and the view
docstrings (YAML after ``---``). Not hand-written."""

from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.yaml_utils import load_operations_from_docstring
from flask import current_app
from marshmallow import fields as ma_fields

from .. import __version__
from ..models import Purpose, ReferralStatus
from ..schemas import common


def path_of(rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def decimal_as_string(_converter, field, **_kwargs) -> dict:
    """Amounts travel as decimal strings (``"1000.00"``, exact): say so in the document."""
    if isinstance(field, ma_fields.Decimal) and getattr(field, "as_string", False):
        return {"type": "string", "format": "decimal", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}
    return {}


def build(app) -> dict:
    marshmallow = MarshmallowPlugin()
    spec = APISpec(
        title="ccas-network API",
        version=__version__,
        openapi_version="3.0.3",
        info={
            "description": "Microcrédit personnel accompagné: cases, referrals, loans. "
            "Authenticate with `Authorization: Bearer <token>` (created by "
            "`ccas token create`); the token names the tenant. Errors are "
            "`application/problem+json`."
        },
        plugins=[marshmallow],
    )
    marshmallow.converter.add_attribute_function(decimal_as_string)
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})

    for name in ("ProblemSchema", "MeSchema"):
        spec.components.schema(name.removesuffix("Schema"), schema=getattr(common, name))
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        operations = load_operations_from_docstring(view.__doc__ or "")
        if not operations:
            continue
        spec.path(path=path_of(rule), operations=operations)
    return with_enumerations(with_common_problems(spec.to_dict()), app)


def with_enumerations(document: dict, app) -> dict:
    """The filters that take a code list their codes: a case's states (the core's and
    every installed plugin's), a referral's statuses."""
    registry = app.extensions["ccas_plugins"]
    states = sorted(registry.workflow_for(frozenset(registry.usable())).states)
    no_nul = {"type": "string", "pattern": "^[^\\u0000]*$"}
    schemas = {
        ("/api/v1/cases", "state"): {"type": "string", "enum": states},
        ("/api/v1/cases", "purpose"): {"type": "string",
                                       "enum": sorted(p.value for p in Purpose)},
        ("/api/v1/cases", "worker"): {
            "type": "string", "pattern": "^(none|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
            "[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"},
        ("/api/v1/cases", "q"): no_nul,
        ("/api/v1/referrals", "status"): {"type": "string",
                                          "enum": sorted(s.value for s in ReferralStatus)},
    }
    for (path, name), schema in schemas.items():
        for parameter in document.get("paths", {}).get(path, {}).get("get", {}).get(
                "parameters", []):
            if parameter.get("name") == name:
                parameter["schema"] = {**parameter.get("schema", {}), **schema}
    return document


#: The problems any operation may answer (problem+json, ``core.errors``), beside its own.
COMMON_PROBLEMS = {
    "400": "Requête illisible : paramètre ou corps invalide (JSON, UTF-8, caractère nul).",
    "401": "Jeton absent, inconnu, expiré ou révoqué.",
    "403": "Le rôle du jeton n'a pas accès à cette opération.",
    "404": "Objet inconnu ou que le jeton ne peut pas voir (jamais 403 pour un objet).",
    "422": "Données refusées : le détail nomme les champs (``errors``).",
    "429": "Trop de requêtes pour ce jeton : réessayer après ``Retry-After``.",
}
BODY_PROBLEMS = {
    "413": "Corps trop volumineux.",
    "415": "Type de contenu refusé : envoyer du JSON (``application/json``).",
}


def with_common_problems(document: dict) -> dict:
    """Declare on every operation the problems the platform answers with everywhere, so
    that a client (and schemathesis' status check) knows every status it may get."""
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            extra = dict(COMMON_PROBLEMS)
            if "requestBody" in operation:
                extra.update(BODY_PROBLEMS)
            for status, description in extra.items():
                responses.setdefault(status, {"description": description, "content": problem})
    return document


def document() -> dict:
    cache = current_app.extensions.setdefault("ccas_openapi", {})
    if "doc" not in cache:
        cache["doc"] = build(current_app)
    return cache["doc"]
