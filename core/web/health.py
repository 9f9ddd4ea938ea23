"""Liveness and readiness: ``/healthz`` (the process answers) and ``/readyz`` (the database
answers and its schema is at the migrations' head). ``/readyz`` also lists the installed
plugins that were refused at start-up, with the reason: the platform serves without them
(200), and the operator sees why."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify

from .. import migrate, plugins, rawsql
from ..db import db
from ..policy import public

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@public
def healthz():
    return jsonify({"status": "ok"})


@bp.route("/readyz")
@public
def readyz():
    try:
        with db.engine.connect() as conn:
            rawsql.ping(conn)
            current = rawsql.migration_revision(conn)
    except Exception as exc:  # noqa: BLE001 - any database failure means "not ready"
        log.warning("readyz: database unreachable: %s", type(exc).__name__)
        return jsonify({"status": "unavailable", "database": "unreachable"}), 503
    pending = migrate.pending_heads(current)
    if pending:
        return (
            jsonify(
                {
                    "status": "unavailable",
                    "database": "reachable",
                    "migrations": {"current": sorted(current), "pending": sorted(pending)},
                }
            ),
            503,
        )
    body = {"status": "ok", "database": "reachable", "migrations": "head"}
    refused = plugins.registry().refused()
    if refused:
        body["plugins_refused"] = refused
    return jsonify(body)
