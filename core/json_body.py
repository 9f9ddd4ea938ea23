"""A request's JSON body, parsed once per request.

Three readers need the parsed body of an API write: the body guard
(``core.errors.guard_request_body``: valid UTF-8 JSON, no character a database cannot
store), the API's reading of it (``core.api.body.load_json``) and the idempotency key's
fingerprint (``core.api.idempotency``). Each parsed the same bytes again; :func:`parsed`
keeps the value in the request's WSGI environ, so the first reader parses and the others
take its value. The value is shared: readers do not change it (marshmallow's ``load`` and
the fingerprint's ``json.dumps`` build new values).
"""

from __future__ import annotations

import json

#: What :func:`parsed` gives for a body that is not UTF-8 JSON (empty, another
#: encoding, malformed).
INVALID = object()

_KEY = "ccas.json_body"


def parsed(request):
    """The JSON value of ``request``'s body decoded as UTF-8 (the body kept by werkzeug,
    ``get_data(cache=True)``), or :data:`INVALID`; parsed at the first call of the
    request."""
    environ = request.environ
    value = environ.get(_KEY, environ)  # the environ itself: not yet parsed
    if value is environ:
        try:
            value = json.loads(request.get_data(cache=True).decode("utf-8"))
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            value = INVALID
        environ[_KEY] = value
    return value
