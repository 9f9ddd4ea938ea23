"""The case state machine: one declarative table per tenant, one function that applies it.

The table is the core's part (``core.workflow.definitions.CORE``) merged with the parts of
the plugins the tenant enabled (hook ``ccas_case_workflow``): :func:`current` gives it.
:func:`apply_transition` checks the table, the case's version (optimistic locking), the
required data, the checks of the state being left (``ccas_case_checks``) and the vetoes
(``ccas_case_before_transition``, the core's own included), then records the move (who,
when, from, to, reason) and lets everyone react (``ccas_case_after_transition``), all in
the caller's transaction. Nothing is committed here: on any error the caller rolls back
and the case is unchanged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from flask import g, has_app_context
from sqlalchemy.orm.exc import StaleDataError

from .. import audit, clock, organisation_list, plugins
from ..errors import UserError
from ..models import Case, CaseTransition
from ..plugins.calling import PluginFailure
from . import reasons
from .definitions import (
    CORE,
    CaseState,
    CaseWorkflow,
    IntakeOption,
    Milestone,
    Transition,
    Workflow,
    WorkflowError,
)

__all__ = [
    "CORE", "CaseState", "CaseWorkflow", "IntakeOption", "Milestone", "StaleCase",
    "Transition", "TransitionError", "TransitionRequest", "Workflow", "WorkflowError",
    "apply_transition", "available", "current", "destinations", "failed_checks", "find",
]

log = logging.getLogger(__name__)


class TransitionError(UserError):
    """A refused transition (422 by default)."""

    def __init__(self, message: str, status: int = 422, field: str | None = None,
                 problems: list[str] | None = None, kind: str | None = None):
        super().__init__(message, status=status, field=field, kind=kind)
        self.problems = problems or [message]


class StaleCase(TransitionError):
    def __init__(self):
        super().__init__(
            "Ce dossier a été modifié par quelqu'un d'autre entre-temps. Rechargez la page : "
            "vos changements n'ont pas été enregistrés.",
            status=409, kind="stale-version",
        )


def current() -> Workflow:
    """The workflow of the current tenant (the core's and its enabled plugins' parts)."""
    return plugins.registry().workflow_for(plugins.enabled_plugins())


def find(source: str, target: str) -> Transition | None:
    return current().find(str(source), str(target))


def available(case: Case, role: str) -> list[Transition]:
    """The moves the role may try from the case's current state."""
    return current().available(str(case.state), role)


@dataclass
class TransitionRequest:
    target: str
    version: int
    reason: str | None = None
    reason_text: str = ""
    destination: str | None = None
    data: dict = field(default_factory=dict)

    def as_data(self) -> dict:
        return {
            "reason": self.reason, "reason_text": self.reason_text,
            "destination": self.destination, **self.data,
        }


def _validate(tenant, transition: Transition, req: TransitionRequest, destinations: dict) -> None:
    if transition.reason:
        codes = reasons.reasons(tenant, transition.reason)
        if not req.reason:
            raise TransitionError("Indiquez un motif.", field="reason")
        if req.reason not in codes:
            raise TransitionError(
                f"Motif inconnu : {req.reason!r} (attendu : {', '.join(codes)}).", field="reason"
            )
    if transition.reason_text and not (req.reason_text or "").strip():
        raise TransitionError("Précisez ce qui manque (texte obligatoire).", field="reason_text")
    if transition.destination:
        if not req.destination:
            raise TransitionError("Indiquez vers où la personne est réorientée.",
                                  field="destination")
        if req.destination not in destinations:
            raise TransitionError(f"Destination inconnue : {req.destination!r}.",
                                  field="destination")


def destinations() -> dict[str, str]:
    """Reorientation destinations: the core's schemes, then what the core's features and
    the enabled plugins add (the tenant's partner organisations as ``org:<id>``…)."""
    out = dict(reasons.CORE_DESTINATIONS)
    with organisation_list.read_once():  # one read of the organisations for every asker
        answers = plugins.hooks().ccas_reorientation_destinations.answers().flat()
    for d in answers:
        out[d.code] = d.label
    return out


def failed_checks(case: Case, state: str) -> list[str]:
    """Messages of the checks the case fails for leaving ``state`` (a plugin that fails
    while checking counts as a failed check, named)."""
    try:
        answers = plugins.hooks().ccas_case_checks.answers(case=case, state=str(state))
    except PluginFailure as exc:
        return [f"Vérification impossible : {exc.message}"]
    return [check.message or check.label for check in answers.flat() if not check.passed]


def _tenant():
    return g.get("tenant") if has_app_context() else None


def apply_transition(session, case: Case, req: TransitionRequest, actor,
                     at: datetime | None = None) -> CaseTransition:
    """Move ``case`` as asked by ``actor``. Raises ``TransitionError`` (403, 409, 422)."""
    # The version the case has now, before any query below autoflushes the caller's
    # pending changes to it (which would bump it).
    version = case.version
    workflow = current()
    target = str(req.target or "")
    if target not in workflow.states:
        raise TransitionError(f"État inconnu : {target!r}.", field="to")
    transition = workflow.find(str(case.state), target)
    if transition is None:
        raise TransitionError(
            f"Passage impossible de « {workflow.label(case.state)} » à "
            f"« {workflow.label(target)} »."
        )
    role = str(getattr(actor, "role", ""))
    if role not in transition.roles:
        raise TransitionError("Votre rôle ne permet pas ce passage.", status=403)
    if req.version != version:
        raise StaleCase()
    tenant = _tenant()
    _validate(tenant, transition, req, destinations() if transition.destination else {})
    if not transition.side_exit:
        problems = failed_checks(case, case.state)
        if problems:
            raise TransitionError(" ".join(problems), problems=problems)
    data = req.as_data()
    hooks = plugins.hooks()
    try:
        answers = hooks.ccas_case_before_transition.answers(
            case=case, transition=transition, actor=actor, data=data)
    except PluginFailure as exc:
        raise TransitionError(f"{_label(exc.plugin)} : erreur de l'extension, passage "
                              "refusé.") from exc
    vetoes = [_prefixed(plugin, message) for plugin, message in answers.results]
    if vetoes:
        raise TransitionError(" ".join(vetoes), problems=vetoes)

    now = at or clock.now()
    source = str(case.state)
    case.state = target
    case.state_changed_at = now
    # Every move of the file is a contact: the retention clock (RGPD) starts again.
    if case.person is not None and (case.person.last_contact_at is None
                                    or case.person.last_contact_at < now):
        case.person.last_contact_at = now
    if transition.destination:
        case.reoriented_to = req.destination
    record = CaseTransition(
        case_id=case.id, from_state=source, to_state=target, at=now,
        actor_id=getattr(actor, "id", None), actor_label=audit.actor_label(actor),
        reason_code=req.reason, reason_text=(req.reason_text or "").strip(),
        data={k: v for k, v in req.data.items() if _jsonable(v)},
    )
    session.add(record)
    audit.record(session, "case.transition", case, actor=actor, source=source,
                 target=target, reason=req.reason)
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleCase() from exc
    try:
        hooks.ccas_case_after_transition(case=case, transition=transition, actor=actor,
                                         data=data, session=session)
    except PluginFailure as exc:
        raise TransitionError(f"{_label(exc.plugin)} : erreur de l'extension, passage "
                              "annulé.") from exc
    return record


def _label(plugin_name: str) -> str:
    return plugins.registry().label(plugin_name)


def _prefixed(plugin_name: str, message: str) -> str:
    """A plugin's veto carries its label; the core's own features speak for the CCAS."""
    if plugins.registry().is_internal(plugin_name):
        return message
    return f"{_label(plugin_name)} : {message}"


def _jsonable(value) -> bool:
    return isinstance(value, (str, int, float, bool, type(None), list, dict))
