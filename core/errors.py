"""User-facing errors: one exception type, rendered as problem+json for the API and as a
French page for the web. Never a stack trace."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_to_bytes

from flask import Flask, current_app, g, jsonify, make_response, render_template, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from . import json_body

log = logging.getLogger(__name__)


class UserError(Exception):
    """An error the person in front of the screen (or the API client) can fix.

    :param message: French, complete sentence.
    :param status: HTTP status when raised in a request.
    :param field: the input field at fault, if any.
    :param message_en: English variant for API clients (``detail_en``, deprecated).
    :param kind: the problem's kind for API clients (``type`` URI), when more precise
        than the status's (:data:`PROBLEM_KINDS`).
    """

    def __init__(
        self,
        message: str,
        status: int = 400,
        field: str | None = None,
        message_en: str | None = None,
        errors: dict | None = None,
        kind: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field
        self.message_en = message_en
        self.errors = errors or ({field: [message]} if field else {})
        self.kind = kind


class NotFound(UserError):
    def __init__(self, what: str = "Cette ressource"):
        super().__init__(f"{what} est introuvable.", status=404, message_en="Not found.")


class Conflict(UserError):
    def __init__(self, message: str, message_en: str | None = None):
        super().__init__(message, status=409, message_en=message_en or "Conflict.")


TITLES = {
    400: ("Requête invalide", "Bad request"),
    401: ("Authentification requise", "Authentication required"),
    403: ("Accès refusé", "Forbidden"),
    404: ("Introuvable", "Not found"),
    405: ("Méthode non autorisée", "Method not allowed"),
    409: ("Conflit", "Conflict"),
    413: ("Contenu trop volumineux", "Payload too large"),
    415: ("Type de contenu non pris en charge", "Unsupported media type"),
    422: ("Données invalides", "Unprocessable content"),
    429: ("Trop de tentatives", "Too many requests"),
    500: ("Erreur interne", "Internal server error"),
    503: ("Service indisponible", "Service unavailable"),
}

DEFAULT_DETAIL = {
    400: "La requête est mal formée.",
    401: "Identifiez-vous pour accéder à cette page.",
    403: "Votre rôle ne permet pas cette action.",
    404: "Cette page ou cette ressource est introuvable.",
    405: "Cette méthode n'est pas autorisée ici.",
    413: "Le contenu envoyé dépasse la taille autorisée.",
    415: "Ce type de contenu n'est pas accepté.",
    429: "Trop de tentatives : réessayez dans quelques minutes.",
    500: "Une erreur inattendue s'est produite. Rien n'a été enregistré. "
    "L'équipe technique a été prévenue.",
    503: "Le service est momentanément indisponible. Réessayez dans un instant.",
}


#: The kinds of problem the API answers with: ``type`` is ``/api/v1/problems/<kind>``
#: (stable; described at that address). ``{kind: (status, French description)}``.
PROBLEM_KINDS: dict[str, tuple[int, str]] = {
    "bad-request": (400, "La requête est mal formée (JSON illisible, paramètre invalide)."),
    "unauthenticated": (401, "Jeton absent, inconnu, expiré ou révoqué."),
    "forbidden": (403, "Le rôle du jeton ne permet pas cette opération."),
    "not-found": (404, "La ressource n'existe pas, ou pas pour ce territoire."),
    "method-not-allowed": (405, "Cette méthode n'est pas permise sur cette adresse."),
    "conflict": (409, "L'état de la ressource empêche l'opération."),
    "stale-version": (409, "La ressource a changé depuis sa lecture : relisez-la (version)."),
    "possible-duplicate": (409, "La personne est peut-être déjà connue : voir duplicates."),
    "too-large": (413, "Le corps de la requête dépasse la taille permise."),
    "unsupported-media-type": (415, "Le corps doit être du JSON (application/json)."),
    "invalid-data": (422, "Des champs sont invalides : voir errors, par champ."),
    "too-many-requests": (429, "Trop de requêtes : réessayez plus tard."),
    "server-error": (500, "Erreur interne : rien n'a été enregistré."),
    "unavailable": (503, "Service momentanément indisponible (une extension en erreur…)."),
}
_KIND_OF_STATUS = {}
for _kind, (_status, _text) in PROBLEM_KINDS.items():
    _KIND_OF_STATUS.setdefault(_status, _kind)
PROBLEM_PATH = "/api/v1/problems/"


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def problem(status: int, detail: str | None = None, kind: str | None = None, **extra):
    """An RFC 9457 ``application/problem+json`` response: ``type`` names the kind of
    problem, ``title`` and ``detail`` are French. ``title_fr`` (the same as ``title``) and
    ``detail_en`` stay until 0.3 (deprecated, ``CHANGELOG.md``)."""
    title_fr, _title_en = TITLES.get(status, ("Erreur", "Error"))
    kind = kind if kind in PROBLEM_KINDS else _KIND_OF_STATUS.get(status, "bad-request")
    body = {
        "type": PROBLEM_PATH + kind,
        "title": title_fr,
        "status": status,
        "detail": detail or DEFAULT_DETAIL.get(status, title_fr),
        "title_fr": title_fr,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _html(status: int, detail: str | None = None):
    title = TITLES.get(status, ("Erreur", "Error"))[0]
    detail = detail or DEFAULT_DETAIL.get(status, title)
    return render_template("error.html", status=status, title=title, detail=detail), status


def register(app: Flask) -> None:
    @app.errorhandler(UserError)
    def _user_error(exc: UserError):
        # a refusal writes nothing: whatever the view had pending is dropped here, so
        # that nothing later in the request can commit it
        _rollback_request_session()
        if is_api_request():
            return problem(
                exc.status, exc.message, kind=exc.kind, detail_en=exc.message_en,
                errors=exc.errors or None,
            )
        return _html(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        # werkzeug's descriptions are English: ours (DEFAULT_DETAIL), or the French title
        detail = None if status in DEFAULT_DETAIL else TITLES.get(status, ("",))[0] or (
            "La requête n'a pas pu être traitée.")
        if exc.__class__.__name__ == "CSRFError":  # the session behind the form is gone
            detail = ("Le formulaire a expiré (session terminée ou page trop ancienne) : "
                      "rien n'a été enregistré. Reconnectez-vous si besoin, rechargez la "
                      "page et saisissez-le à nouveau.")
        if isinstance(exc, BodyRefused) or (
            status == 429 and getattr(getattr(exc, "limit", None), "error_message", None)
        ):
            detail = exc.description  # our own French message
        response = problem(status, detail) if is_api_request() else _html(status, detail)
        allow = dict(exc.get_headers()).get("Allow")
        if allow:  # 405: name the methods the resource takes
            response = make_response(response)
            response.headers["Allow"] = allow
        return response

    @app.errorhandler(DBAPIError)
    def _database_error(exc: DBAPIError):
        # The database went away (restart, network, killed connection): nothing was
        # written (the transaction is rolled back); the client may retry.
        if exc.connection_invalidated or isinstance(exc, OperationalError):
            log.warning("database unavailable on %s %s: %s", request.method, request.path,
                        type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__)
            _rollback_request_session()
            if is_api_request():
                return problem(503)
            return _html(503)
        return _unexpected(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):  # pragma: no cover - handled above
            return _http_error(exc)
        log.exception("unhandled error on %s %s", request.method, request.path)
        _rollback_request_session()
        if is_api_request():
            return problem(500)
        return _html(500)

    # First of every before-request function, before the CSRF check parses the form (it
    # would consume the body the guard reads): see ``core.app.create_app``.
    app.before_request_funcs.setdefault(None, []).insert(0, guard_request_body)


def _rollback_request_session() -> None:
    session = g.get("ccas_session")
    if session is not None:
        try:
            session.rollback()
        except Exception:  # noqa: BLE001 - the connection may be gone; teardown closes it
            log.debug("rollback after error failed", exc_info=True)


# -- request bodies ---------------------------------------------------------------------------


class BodyRefused(HTTPException):
    """A request body refused before any view runs (size, type, encoding)."""

    def __init__(self, status: int, message: str):
        super().__init__(description=message)
        self.code = status


#: Content types the API accepts in a request body.
API_BODY_TYPES = ("application/json", "multipart/form-data", "text/csv")
FORM_TYPE = "application/x-www-form-urlencoded"


def guard_request_body() -> None:
    """Refuse, before any view, the CSRF check and any write, a query string or body that
    is too large (413), of a type the API does not take (415), not valid UTF-8 / JSON, or
    holding a character no database stores in text (NUL, a lone surrogate) (400)."""
    req = request._get_current_object()  # (not a proxy lookup at each use)
    if not _is_clean_urlencoded(req.query_string):
        raise BodyRefused(400, "L'adresse contient des caractères invalides (UTF-8 attendu, "
                               "sans caractère nul) : requête refusée.")
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    length = req.content_length
    if limit and length is not None and length > limit:
        raise BodyRefused(413, "Le contenu envoyé dépasse la taille autorisée "
                               f"({limit // (1024 * 1024)} Mo au plus).")
    if req.method not in ("POST", "PUT", "PATCH") or not length:
        return
    mimetype = req.mimetype
    if is_api_request():
        if not (mimetype in API_BODY_TYPES or mimetype.endswith("+json")):
            raise BodyRefused(415, "Ce type de contenu n'est pas accepté : envoyez du JSON "
                                   "(Content-Type: application/json).")
        if (mimetype == "application/json" or mimetype.endswith("+json")) and not _is_json(req):
            raise BodyRefused(400, "Le corps de la requête n'est pas un JSON valide "
                                   "(UTF-8 attendu, sans caractère nul).")
        return
    if mimetype == FORM_TYPE and not _is_clean_urlencoded(req.get_data(cache=True)):
        raise BodyRefused(400, FORM_MESSAGE)
    if mimetype == "multipart/form-data" and any(
            _unstorable(k) or _unstorable(v) for k, v in req.form.items(multi=True)):
        raise BodyRefused(400, FORM_MESSAGE)


FORM_MESSAGE = ("Le formulaire contient des caractères invalides (UTF-8 attendu, sans "
                "caractère nul) : rien n'a été enregistré.")

#: Characters no database stores in text: NUL (PostgreSQL) and lone UTF-16 surrogates
#: (not encodable in UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(value) -> bool:
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(v) for v in value)
    return False


def _is_json(req) -> bool:
    """The request's body is valid UTF-8 JSON without a NUL character or lone surrogate
    in any string (parsed once for the request's other readers: ``core.json_body``)."""
    value = json_body.parsed(req)
    return value is not json_body.INVALID and not _unstorable(value)


def _is_clean_urlencoded(body: bytes) -> bool:
    """Every name and value of an ``a=1&b=2`` string decodes as UTF-8 without NUL (the
    parser would otherwise replace the bad bytes silently)."""
    for pair in body.split(b"&"):
        for part in pair.split(b"=", 1):
            raw = unquote_to_bytes(part.replace(b"+", b" "))
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return False
            if b"\x00" in raw:
                return False
    return True
