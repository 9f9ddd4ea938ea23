"""One's open sessions, for a tenant's users and the platform's operators alike: the list
(when and where each was opened and last used), end one, end every other one.

The two places differ only by their endpoints and where the event is written: a tenant
user's in the tenant's audit trail, an operator's (no tenant, no trail) in the
application log, as for the operator's second factor.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from .. import clock
from . import sessions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Place:
    page: str  # endpoint of the list
    end_one: str  # endpoint ending one session (``session_id``)
    end_others: str  # endpoint ending every other session
    record: Callable[..., None]  # record(action, **details): the audit trail or the log


def page(place: Place):
    rows = sessions.store().of_account(sessions.account_of(session), clock.now())
    return render_template("account/sessions.html", rows=rows,
                           current=getattr(session, "public_id", None), place=place)


def end_one(place: Place, session_id: str):
    """End one of the account's other sessions (this one ends with "Se déconnecter");
    another account's session, or none, is a 404."""
    try:
        uuid.UUID(session_id)
    except ValueError:
        abort(404)
    ended = sessions.store().end(sessions.account_of(session), [session_id],
                                 keep_key=sessions.digest(session.sid or ""))
    if not ended:
        abort(404)
    place.record("session.end", ended_session=session_id)
    flash(_("La session a été fermée."), "success")
    return redirect(url_for(place.page))


def end_others(place: Place):
    ended = sessions.store().end(sessions.account_of(session), [],
                                 keep_key=sessions.digest(session.sid or ""))
    place.record("session.end_others", ended=ended)
    flash(ngettext("%(num)d autre session a été fermée.",
                   "%(num)d autres sessions ont été fermées.", ended), "success")
    return redirect(url_for(place.page))


def operator_log(operator_id) -> Callable[..., None]:
    """``record`` for an operator: the application log (ids and counts only)."""

    def record(action: str, **details) -> None:
        log.info("operator %s: %s %s", operator_id, action, details)

    return record
