"""One registry of the French labels of the codes people would otherwise see.

A code (a purpose, a state, an employment situation, a reason, an organisation's kind…)
is stored and exchanged as it is; whatever a person reads goes through :func:`label`
(templates: ``{{ code|label("purpose") }}``). The core's vocabularies are the label
tables next to their models; a plugin adds its own or extends one with the plugin-level
hook ``ccas_labels`` (``core/hookspecs.py``). The case states' labels come from the
workflow definitions (core and plugins).

A code without a label is shown as it is and logged once: the no-raw-code browser test
(``tests/browser/test_no_raw_code.py``) fails on it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import has_app_context

from . import plugins
from .models.accompaniment import (
    ACTIVITY_LABELS,
    CHANNEL_LABELS,
    INVITATION_STATUS_LABELS,
    TASK_KIND_LABELS,
    TASK_STATUS_LABELS,
    TIME_CATEGORY_LABELS,
)
from .models.appointment import APPOINTMENT_STATUS_LABELS, KIND_LABELS, MODE_LABELS
from .models.audit import (
    AUDIT_ACTION_LABELS,
    AUDIT_ACTION_PREFIXES,
    AUDIT_DETAIL_LABELS,
    AUDIT_OBJECT_LABELS,
    AUDIT_SURFACE_LABELS,
    AUDIT_VIEW_LABELS,
)
from .models.case import PURPOSE_LABELS, SOURCE_LABELS
from .models.documents import DOCUMENT_STATUS_LABELS
from .models.evaluation import CHARGE_CATEGORIES, RESOURCE_CATEGORIES
from .models.organisation import ORGANISATION_KIND_LABELS
from .models.person import EMPLOYMENT_LABELS
from .models.referral import REFERRAL_STATUS_LABELS
from .models.suggestion import SUGGESTION_STATUS_LABELS
from .policy import ROLE_LABELS
from .reports.definitions import AGE_LABELS, OUTCOME_LABELS

log = logging.getLogger(__name__)

#: The core's vocabularies: ``{name: {code: French label}}``.
CORE: dict[str, Mapping] = {
    "purpose": PURPOSE_LABELS,
    "source": SOURCE_LABELS,
    "employment": EMPLOYMENT_LABELS,
    "budget_resource": RESOURCE_CATEGORIES,
    "budget_charge": CHARGE_CATEGORIES,
    "organisation_kind": ORGANISATION_KIND_LABELS,
    "role": ROLE_LABELS,
    "referral_status": REFERRAL_STATUS_LABELS,
    "document_status": DOCUMENT_STATUS_LABELS,
    "suggestion_status": SUGGESTION_STATUS_LABELS,
    "channel": CHANNEL_LABELS,
    "task_kind": TASK_KIND_LABELS,
    "task_status": TASK_STATUS_LABELS,
    "invitation_status": INVITATION_STATUS_LABELS,
    "activity": ACTIVITY_LABELS,
    "time_category": TIME_CATEGORY_LABELS,
    "appointment_mode": MODE_LABELS,
    "appointment_status": APPOINTMENT_STATUS_LABELS,
    "appointment_kind": KIND_LABELS,
    "age_band": AGE_LABELS,
    "outcome": OUTCOME_LABELS,
    "audit_action": AUDIT_ACTION_LABELS,
    "audit_object": AUDIT_OBJECT_LABELS,
    "audit_action_prefix": AUDIT_ACTION_PREFIXES,
    "audit_detail": AUDIT_DETAIL_LABELS,
    "audit_view": AUDIT_VIEW_LABELS,
    "audit_surface": AUDIT_SURFACE_LABELS,
}

_missing_logged: set[tuple[str, str]] = set()


def vocabularies() -> dict[str, dict[str, str]]:
    """Every vocabulary: the core's, the case states, and what the installed plugins add
    (a plugin never relabels a code the core or an earlier plugin labelled). Outside an
    application (a pure rule under test, a script), the core's vocabularies only."""
    if not has_app_context():
        return {name: {str(code): text for code, text in table.items()}
                for name, table in CORE.items()}
    registry = plugins.registry()
    cached = registry.derived.get("labels")
    if cached is not None:
        return cached
    merged: dict[str, dict[str, str]] = {
        name: {str(code): text for code, text in table.items()} for name, table in CORE.items()
    }
    workflow = registry.workflow_for(frozenset(registry.usable()))
    merged["case_state"] = {code: state.label for code, state in workflow.states.items()}
    # the installed plugins by their French names (an audit event names its plugin)
    merged["plugin"] = {name: p.info.label for name, p in registry.plugins.items()
                        if p.info is not None and p.info.label}
    for plugin, answer in registry.hook("ccas_labels").answers().results:
        for name, table in answer.items():
            into = merged.setdefault(name, {})
            for code, text in table.items():
                if str(code) in into and into[str(code)] != text:
                    log.warning("plugin %s: label of %s %r already given, ignored",
                                plugin, name, code)
                    continue
                into[str(code)] = text
    registry.derived["labels"] = merged
    return merged


def vocabulary(name: str) -> dict[str, str]:
    """``{code: label}`` of one vocabulary (empty when unknown)."""
    return vocabularies().get(name, {})


def label(name: str, code, default: str | None = None) -> str:
    """The French label of ``code`` in vocabulary ``name``; ``default`` (or the code
    itself, logged once) when there is none. ``None`` and ``""`` give ``""``."""
    if code is None or code == "":
        return ""
    text = vocabularies().get(name, {}).get(str(code))
    if text is not None:
        return text
    if default is not None:
        return default
    if (name, str(code)) not in _missing_logged:
        _missing_logged.add((name, str(code)))
        log.warning("no label for %s %r", name, code)
    return str(code)


def audit_action(code: str) -> tuple[str, bool]:
    """The French label of an audit action (vocabulary ``audit_action``) and whether it
    has one. Without one, a readable French default naming its domain from the code's
    first part ("Dossier : action sans libellé"), logged once; the audit page marks it
    so that the no-raw-code crawl fails on it."""
    text = vocabularies().get("audit_action", {}).get(str(code))
    if text is not None:
        return text, True
    head = str(code).split(".", 1)[0]
    domain = vocabularies().get("audit_action_prefix", {}).get(head, "Autre")
    if ("audit_action", str(code)) not in _missing_logged:
        _missing_logged.add(("audit_action", str(code)))
        log.warning("no label for audit action %r", code)
    return f"{domain} : action sans libellé", False


#: Who acted when no person signed in: the labels ``core.audit.actor_label`` writes.
_NOBODY = {"cli": "Administration (ligne de commande)", "anonymous": "Personne non connectée"}
#: How the account acted, said in the audit journal after its address.
_THROUGH = {"token": "jeton d'API", "operator": "opérateur de la plateforme"}


def actor(stored: str | None, how: bool = False) -> str:
    """Who did something, as a person reads it, from the label the audit trail stores
    (``user:<email>``, ``token:<id>:<email>``, ``operator:<email>``, ``cli``,
    ``anonymous``): the account's address, or the French name of who acted without one;
    with ``how`` (the audit journal), also through what ("…, par jeton d'API"). A label
    of another shape is shown as stored (pure)."""
    if not stored:
        return ""
    if stored in _NOBODY:
        return _NOBODY[stored]
    kind, _, rest = stored.partition(":")
    if kind not in ("user", *_THROUGH) or not rest:
        return stored
    address = rest.rsplit(":", 1)[-1] if kind == "token" else rest
    return f"{address}, par {_THROUGH[kind]}" if how and kind in _THROUGH else address
