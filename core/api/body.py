"""Reading a JSON request body through a marshmallow schema, the same way everywhere:
415 when it is not JSON, 400 when it does not parse to an object, 422 with per-field
errors when it does not validate. Nothing is written before this succeeds."""

from __future__ import annotations

from flask import request
from marshmallow import ValidationError

from .. import json_body
from ..errors import UserError


def load_json(schema) -> dict:
    req = request._get_current_object()  # (not a proxy lookup at each use)
    if req.mimetype != "application/json":
        raise UserError("Envoyez le corps en JSON (Content-Type: application/json).",
                        status=415, message_en="Content-Type must be application/json.")
    # the body as the guard parsed it (``core.json_body``: one parse per request); when
    # it is not UTF-8 JSON (the guard did not run: no length given), Flask's reading,
    # which detects another encoding, as before
    body = json_body.parsed(req)
    if body is json_body.INVALID:
        body = req.get_json(silent=True)
    if not isinstance(body, dict):
        raise UserError("Le corps de la requête n'est pas un objet JSON valide.", status=400,
                        message_en="Malformed JSON body (an object is expected).")
    try:
        return schema.load(body)
    except ValidationError as exc:
        messages = exc.normalized_messages()
        raise UserError("Données invalides : voir le détail par champ.", status=422,
                        message_en="Invalid data: see errors.",
                        errors=messages if isinstance(messages, dict) else {"_": messages},
                        ) from exc
