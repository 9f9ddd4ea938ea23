"""OpenAPI 3 document generated with apispec from the marshmallow schemas and the view
docstrings (YAML after ``---``). Not hand-written."""

from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.yaml_utils import load_operations_from_docstring
from flask import current_app

from .. import __version__
from ..schemas import common


def _path_of(rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def build(app) -> dict:
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
        plugins=[MarshmallowPlugin()],
    )
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
        spec.path(path=_path_of(rule), operations=operations)
    return spec.to_dict()


def document() -> dict:
    cache = current_app.extensions.setdefault("ccas_openapi", {})
    if "doc" not in cache:
        cache["doc"] = build(current_app)
    return cache["doc"]
