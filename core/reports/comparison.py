"""The cross-city comparison of the operator console: the tenants that consent (a tenant
setting, off by default, that the manager turns on) share a few aggregates of a year,
side by side, small counts suppressed as in the funder view.

Each tenant's figures are computed under that tenant's own scope (``tenant_scope``: the
ORM criteria and, on PostgreSQL, row-level security as for any request of that tenant),
one tenant after the other, never by lifting the wall between tenants. Only the
suppressed aggregates leave the loop.
"""

from __future__ import annotations

from fractions import Fraction

from sqlalchemy import select

from .. import audit, tenancy
from ..models import Tenant
from . import definitions as d
from .suppression import HIDDEN, RULE, funder_view, is_small  # noqa: F401 - RULE re-exported
from .yearly import build_report

SETTING = "sharing"


def consents(tenant) -> bool:
    """Whether ``tenant`` shares its aggregates with the other cities (off by default)."""
    return bool(((tenant.settings or {}).get(SETTING) or {}).get("comparison"))


def set_consent(session, tenant, consent: bool) -> None:
    """Turn the tenant's participation on or off (audited in the tenant's trail)."""
    settings = dict(tenant.settings or {})
    settings[SETTING] = {**(settings.get(SETTING) or {}), "comparison": bool(consent)}
    tenant.settings = settings  # a new dict: the JSON column sees the change
    with tenancy.tenant_scope(tenant.id):
        audit.record(session, "tenant.comparison_consent", tenant, consent=bool(consent))
        session.flush()


def _rate(part, whole) -> float | str | None:
    """``part / whole`` in percent with one decimal; hidden when either count is small
    (the rate would give a suppressed count back); ``None`` when ``whole`` is 0."""
    if part is None or whole is None:
        return None
    if is_small(part) or is_small(whole):
        return HIDDEN
    if not whole:
        return None
    return float(round(Fraction(part * 100, whole), 1))


def figures(report: dict) -> dict:
    """The shared aggregates of one tenant's yearly review (pure): requests, grant rate,
    purposes (shares), median delays and default rate, suppressed for publication."""
    public = funder_view(report)
    loans = report.get("loans") or {}
    return {
        "requests": public["requests"],
        "granted": public["granted"],
        "grant_rate": _rate(report["granted"], report["requests"]),
        "purposes": public["purposes"],
        "delays": {key: stats.get("median") for key, stats in public["delays"].items()},
        "delay_labels": report.get("delay_labels", {}),
        "loans": public["loans"].get("count"),
        "default_rate": _rate(loans.get("defaults"), loans.get("count")),
    }


def consenting_tenants(session) -> list[Tenant]:
    """The tenants that consent (``tenants`` is the platform's own table, no tenant
    wall to cross to read it)."""
    rows = session.scalars(select(Tenant).order_by(Tenant.name)).all()
    return [t for t in rows if consents(t) and not getattr(t, "suspended_at", None)]


def compare(session, year: int) -> list[dict]:
    """``[{"tenant": Tenant, "figures": {...}}]`` for the consenting tenants, each
    computed in its own tenant scope."""
    out = []
    for tenant in consenting_tenants(session):
        with tenancy.tenant_scope(tenant.id):
            report = build_report(session, tenant, year)
        out.append({"tenant": tenant, "figures": figures(report)})
    return out


def rows(compared: list[dict]) -> dict:
    """Side-by-side rows for the page: the delay keys and purposes of every tenant."""
    delay_labels: dict[str, str] = {}
    for entry in compared:
        for key, text in entry["figures"]["delay_labels"].items():
            delay_labels.setdefault(key, text)
    return {"purposes": list(d.PURPOSES), "delays": delay_labels}
