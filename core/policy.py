"""The one declared authorization policy: which roles may call which endpoint.

Every view is decorated with :func:`allow` (roles) or :func:`public`; the registry below is
what ``tests/test_policy.py`` checks against the URL map, so an endpoint without a policy
entry fails the tests. Object-level rules (own organisation, own tenant) are enforced by
the queries themselves and answer 404, never 403, for objects one may not know exist.
"""

from __future__ import annotations

import enum
import functools
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, request, url_for
from flask_login import current_user

#: endpoint function qualname -> frozenset of roles, or "public", or "operator"
POLICY: dict[str, frozenset[str] | str] = {}


class Role(enum.StrEnum):
    """A user's role in a tenant (platform operators have none: their own table)."""

    manager = "manager"
    secretary = "secretary"
    social_worker = "social_worker"
    lender_agent = "lender_agent"
    referrer = "referrer"
    funder = "funder"


ROLE_LABELS = {
    Role.manager: "Responsable du dispositif",
    Role.secretary: "Secrétariat",
    Role.social_worker: "Travailleur social",
    Role.lender_agent: "Agent du prêteur",
    Role.referrer: "Prescripteur partenaire",
    Role.funder: "Financeur",
}

# -- named groups: the one place where sets of roles are spelled out ---------------------

ALL_TENANT_ROLES = frozenset(Role)
#: The CCAS team: intake, documents, appointments, the case list.
CCAS_STAFF = frozenset({Role.manager, Role.secretary, Role.social_worker})
#: Social work: interviews, budget, private notes, instruction, accompaniment,
#: "other aids first", workshops' organisation.
SOCIAL_WORKERS = frozenset({Role.manager, Role.social_worker})
#: The front desk: the secretary and the scheme manager (documents to chase).
FRONT_DESK = frozenset({Role.secretary, Role.manager})
#: The lender's agents.
LENDER = frozenset({Role.lender_agent})
#: The lender's desk: its agents and the scheme manager (the lender's queues, first
#: repayment).
LENDER_DESK = frozenset({Role.lender_agent, Role.manager})
#: Who opens case pages and the case API (the lender from its own check or the
#: submission on, see ``core.cases.visible_cases``); referrers and funders never.
CASE_READERS = CCAS_STAFF | LENDER
#: Who reads a loan (terms, schedule, position, offer documents), on pages and in the API
#: alike: the lender's agents, and the CCAS staff who instruct the file and accompany the
#: borrower for the whole loan (manager, social worker). The secretary's work (intake by
#: phone, documents, appointments) needs no loan data. See docs/authorization.md.
LOAN_READERS = LENDER | SOCIAL_WORKERS
#: Who follows referrals: the CCAS team and the partners' referrers.
REFERRAL_READERS = CCAS_STAFF | {Role.referrer}
#: The scheme manager alone (settings, staff, audit, reports, imports, privacy).
MANAGER = frozenset({Role.manager})
#: Funders read aggregate reports only.
FUNDERS = frozenset({Role.funder})


def _key(fn) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def public(fn):
    """No login needed (login pages, health checks, the API description)."""
    POLICY[_key(fn)] = "public"
    return fn


def operator_only(fn):
    POLICY[_key(fn)] = "operator"

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated or not getattr(current_user, "is_operator", False):
            if current_user.is_authenticated:
                abort(403)
            return redirect(url_for("operator.login", next=request.full_path))
        return fn(*args, **kwargs)

    return wrapper


def allow(*roles: str | Role | frozenset):
    """Only signed-in users of the current tenant with one of ``roles`` (role names or
    named groups of this module: ``@allow(CCAS_STAFF)``, ``@allow(LENDER, "manager")``)."""
    roles = tuple(sorted({str(r) for item in roles
                          for r in (item if isinstance(item, (set, frozenset)) else (item,))}))
    unknown = set(roles) - ALL_TENANT_ROLES
    if unknown:
        raise ValueError(f"unknown roles in policy: {unknown}")

    def decorate(fn):
        POLICY[_key(fn)] = frozenset(roles)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            user = current_user._get_current_object()  # (the proxy looked up once)
            if not user.is_authenticated or getattr(user, "is_operator", False):
                if g.get("ccas_api"):
                    abort(401)
                return _to_login()
            if str(user.role) not in roles:
                abort(403)
            return fn(*args, **kwargs)

        return wrapper

    return decorate


def roles_of(view) -> frozenset | str | None:
    """The roles ``@allow`` gave a view function (``"operator"`` for operator pages), or
    ``None`` for a view without a policy (public)."""
    while view is not None:
        if _key(view) in POLICY:
            return POLICY[_key(view)]
        view = getattr(view, "__wrapped__", None)
    return None


def _to_login():
    """Send a signed-out visitor to the sign-in page. A form posted without a session
    (it expired while the user was typing) is not saved: say so, and come back to the
    form's page after signing in."""
    target = request.full_path
    if request.method == "POST":
        flash("Votre session a expiré : le formulaire n'a pas été enregistré. Reconnectez-"
              "vous, puis saisissez-le à nouveau.", "error")
        referrer = urlsplit(request.referrer or "")
        target = None
        if referrer.netloc == request.host and referrer.path.startswith("/"):
            target = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return redirect(url_for("web.login", next=target))


def policy_of(view_function) -> frozenset[str] | str | None:
    target = getattr(view_function, "__wrapped__", view_function)
    while hasattr(target, "__wrapped__"):
        target = target.__wrapped__
    return POLICY.get(_key(target))
