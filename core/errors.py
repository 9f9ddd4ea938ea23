"""User-facing errors: one exception type, rendered as problem+json for the API and as a
French page for the web. Never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class UserError(Exception):
    """An error the person in front of the screen (or the API client) can fix.

    :param message: French, complete sentence.
    :param status: HTTP status when raised in a request.
    :param field: the input field at fault, if any.
    :param message_en: English variant for API clients.
    """

    def __init__(
        self,
        message: str,
        status: int = 400,
        field: str | None = None,
        message_en: str | None = None,
        errors: dict | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field
        self.message_en = message_en
        self.errors = errors or ({field: [message]} if field else {})


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


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def problem(status: int, detail: str | None = None, **extra):
    """An RFC 9457 ``application/problem+json`` response."""
    title_fr, title_en = TITLES.get(status, ("Erreur", "Error"))
    body = {
        "type": "about:blank",
        "title": title_en,
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
        if is_api_request():
            return problem(
                exc.status, exc.message, detail_en=exc.message_en, errors=exc.errors or None
            )
        return _html(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        detail = None if status in DEFAULT_DETAIL else exc.description
        if is_api_request():
            return problem(status, detail)
        return _html(status, detail)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):  # pragma: no cover - handled above
            return _http_error(exc)
        log.exception("unhandled error on %s %s", request.method, request.path)
        if is_api_request():
            return problem(500)
        return _html(500)
