"""The case state machine: one declarative table, one function that applies it.

``TRANSITIONS`` says who (role) may move a case from which state to which, and what data
the move requires. :func:`apply_transition` checks the table, the case's version
(optimistic locking), the required data, the plugins' checks for the state being left
and their vetoes, then records the move (who, when, from, to, reason) and lets the
plugins react, all in the caller's transaction. Nothing is committed here: on any error
the caller rolls back and the case is unchanged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm.exc import StaleDataError

from .. import audit, clock
from ..errors import UserError
from ..models import STATE_LABELS, Case, CaseTransition, State
from . import reasons

log = logging.getLogger(__name__)

S = State
STAFF = frozenset({"manager", "secretary", "social_worker"})
WORKERS = frozenset({"manager", "social_worker"})
LENDER = frozenset({"lender_agent"})

#: States from which a case may still be abandoned (everything before disbursement).
BEFORE_DISBURSEMENT = (
    S.intake, S.ficp_pending, S.documents_requested, S.evaluation, S.instruction,
    S.submitted_to_lender, S.granted, S.adjourned, S.signing,
)
TERMINAL = frozenset(
    {S.closed, S.refused, S.reoriented, S.ficp_registered, S.abandoned, S.withdrawn}
)


@dataclass(frozen=True)
class Transition:
    """A permitted move. ``reason`` names the coded-reason list required
    (``core.workflow.reasons``), ``reason_text`` requires a free text, ``destination`` a
    reorientation destination. ``side_exit`` moves ignore the plugins' checks (the case
    leaves the path)."""

    name: str
    source: State
    target: State
    roles: frozenset[str]
    label: str
    reason: str | None = None
    reason_text: bool = False
    destination: bool = False
    side_exit: bool = False


def _t(name, sources, target, roles, label, **kw) -> list[Transition]:
    if isinstance(sources, State):
        sources = (sources,)
    return [Transition(name, s, target, frozenset(roles), label, **kw) for s in sources]


TRANSITIONS: tuple[Transition, ...] = tuple(
    _t("send_to_ficp", S.intake, S.ficp_pending, STAFF, "Envoyer au contrôle FICP")
    + _t("request_documents", S.ficp_pending, S.documents_requested, STAFF,
         "Demander les pièces")
    + _t("ficp_registered", S.ficp_pending, S.ficp_registered, LENDER | {"manager"},
         "Inscription FICP constatée", side_exit=True)
    + _t("start_evaluation", S.documents_requested, S.evaluation, STAFF,
         "Commencer l'évaluation")
    + _t("start_instruction", S.evaluation, S.instruction, WORKERS, "Passer à l'instruction")
    + _t("submit_to_lender", S.instruction, S.submitted_to_lender, WORKERS,
         "Transmettre au prêteur")
    + _t("grant", S.submitted_to_lender, S.granted, LENDER, "Accorder")
    + _t("refuse", S.submitted_to_lender, S.refused, LENDER, "Refuser", reason="refuse")
    + _t("adjourn", S.submitted_to_lender, S.adjourned, LENDER, "Ajourner", reason_text=True)
    + _t("resume_instruction", S.adjourned, S.instruction, WORKERS, "Reprendre l'instruction")
    + _t("prepare_signing", S.granted, S.signing, WORKERS | LENDER, "Préparer la signature")
    + _t("sign", S.signing, S.withdrawal_period, WORKERS | LENDER,
         "Enregistrer la signature tripartite")
    + _t("withdraw", S.withdrawal_period, S.withdrawn, WORKERS | LENDER,
         "Rétractation de l'emprunteur", side_exit=True)
    + _t("disburse", S.withdrawal_period, S.disbursed, LENDER, "Décaisser")
    + _t("start_repaying", S.disbursed, S.repaying, LENDER | {"manager"},
         "Premier remboursement")
    + _t("close", S.repaying, S.closed, WORKERS | LENDER, "Clôturer", reason="close")
    + _t("reorient", (S.intake, S.documents_requested, S.evaluation), S.reoriented, STAFF,
         "Réorienter", reason="reorient", destination=True, side_exit=True)
    + _t("abandon", BEFORE_DISBURSEMENT, S.abandoned, STAFF, "Abandon", reason="abandon",
         side_exit=True)
)

_BY_EDGE = {(t.source, t.target): t for t in TRANSITIONS}


# -- core listeners --------------------------------------------------------------------
# Core features (not plugins) that must check or react to transitions register here at
# import time: e.g. unresolved "other aids first" suggestions block instruction, a
# reorientation creates an outgoing referral, referrals mirror case milestones. Same
# transaction, same rules as the plugin hooks; a raising listener refuses the move.

#: ``fn(case, transition, actor, data) -> str | None`` (a French veto message or None)
CORE_CHECKS: list = []
#: ``fn(session, case, transition, actor, data) -> None``
CORE_LISTENERS: list = []


def core_check(fn):
    if fn not in CORE_CHECKS:
        CORE_CHECKS.append(fn)
    return fn


def on_transition(fn):
    if fn not in CORE_LISTENERS:
        CORE_LISTENERS.append(fn)
    return fn


class TransitionError(UserError):
    """A refused transition (422 by default)."""

    def __init__(self, message: str, status: int = 422, field: str | None = None,
                 problems: list[str] | None = None):
        super().__init__(message, status=status, field=field)
        self.problems = problems or [message]


class StaleCase(TransitionError):
    def __init__(self):
        super().__init__(
            "Ce dossier a été modifié par quelqu'un d'autre entre-temps. Rechargez la page : "
            "vos changements n'ont pas été enregistrés.",
            status=409,
        )


def find(source: State | str, target: State | str) -> Transition | None:
    return _BY_EDGE.get((State(source), State(target)))


def available(case: Case, role: str) -> list[Transition]:
    """The moves the role may try from the case's current state."""
    return [t for t in TRANSITIONS if t.source == case.state and role in t.roles]


@dataclass
class TransitionRequest:
    target: State
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
    """Reorientation destinations: the core's schemes plus the enabled plugins'."""
    from ..plugins import hooks

    out = dict(reasons.CORE_DESTINATIONS)
    for result in hooks().ccas_reorientation_destinations():
        for d in result or []:
            out[d.code] = d.label
    for provider in DESTINATION_PROVIDERS:  # core features, e.g. "org:<id>" partners
        out.update(provider())
    return out


#: ``fn() -> {code: label}``: core features adding destinations (``core.referrals`` adds
#: the tenant's partner organisations as ``org:<organisation id>``).
DESTINATION_PROVIDERS: list = []


def failed_checks(case: Case, state: State) -> list[str]:
    """Messages of the plugins' checks the case fails for leaving ``state``."""
    from ..plugins import hooks

    messages = []
    for impl_name, result in _call_each(hooks().ccas_case_checks, case=case, state=state):
        if isinstance(result, Exception):
            messages.append(f"Vérification de l'extension {impl_name} impossible (erreur).")
            continue
        for check in result or []:
            if not check.passed:
                messages.append(check.message or check.label)
    return messages


def _call_each(caller, **kwargs):
    """Call each plugin implementation on its own, so an error names its plugin."""
    for impl in reversed(caller.get_hookimpls()):
        args = {k: v for k, v in kwargs.items() if k in impl.argnames}
        try:
            yield impl.plugin_name, impl.function(**args)
        except Exception as exc:  # noqa: BLE001 - a plugin must not corrupt a case
            log.exception("plugin %s raised in %s", impl.plugin_name, caller.name)
            yield impl.plugin_name, exc


def apply_transition(session, case: Case, req: TransitionRequest, actor,
                     at: datetime | None = None) -> CaseTransition:
    """Move ``case`` as asked by ``actor``. Raises ``TransitionError`` (403, 409, 422)."""
    from ..plugins import hooks, registry

    target = _state(req.target)
    transition = find(case.state, target)
    if transition is None:
        raise TransitionError(
            f"Passage impossible de « {STATE_LABELS[case.state]} » à "
            f"« {STATE_LABELS[target]} »."
        )
    role = str(getattr(actor, "role", ""))
    if role not in transition.roles:
        raise TransitionError("Votre rôle ne permet pas ce passage.", status=403)
    if req.version != case.version:
        raise StaleCase()
    from flask import g

    tenant = g.get("tenant")
    _validate(tenant, transition, req, destinations() if transition.destination else {})
    if not transition.side_exit:
        problems = failed_checks(case, case.state)
        if problems:
            raise TransitionError(" ".join(problems), problems=problems)
    data = req.as_data()
    vetoes = []
    for plugin_name, result in _call_each(
        hooks().ccas_case_before_transition, case=case, transition=transition, actor=actor,
        data=data,
    ):
        label = _label(registry(), plugin_name)
        if isinstance(result, Exception):
            vetoes.append(f"{label} : erreur de l'extension, passage refusé.")
        elif result:
            vetoes.append(f"{label} : {result}")
    if not transition.side_exit:
        for check in CORE_CHECKS:
            message = check(case, transition, actor, data)
            if message:
                vetoes.append(message)
    if vetoes:
        raise TransitionError(" ".join(vetoes), problems=vetoes)

    now = at or clock.now()
    source = case.state
    case.state = target
    case.state_changed_at = now
    # Every move of the file is a contact: the retention clock (RGPD) starts again.
    if case.person is not None and (case.person.last_contact_at is None
                                    or case.person.last_contact_at < now):
        case.person.last_contact_at = now
    if transition.destination:
        case.reoriented_to = req.destination
    record = CaseTransition(
        case_id=case.id, from_state=source.value, to_state=target.value, at=now,
        actor_id=getattr(actor, "id", None), actor_label=audit.actor_label(actor),
        reason_code=req.reason, reason_text=(req.reason_text or "").strip(),
        data={k: v for k, v in req.data.items() if _jsonable(v)},
    )
    session.add(record)
    audit.record(session, "case.transition", case, actor=actor, source=source.value,
                 target=target.value, reason=req.reason)
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleCase() from exc
    for listener in CORE_LISTENERS:
        listener(session, case, transition, actor, data)
    for plugin_name, result in _call_each(
        hooks().ccas_case_after_transition, case=case, transition=transition, actor=actor,
        data=data,
    ):
        if isinstance(result, Exception):
            raise TransitionError(
                f"{_label(registry(), plugin_name)} : erreur de l'extension, passage annulé."
            )
    return record


def _label(reg, plugin_name: str) -> str:
    plugin = reg.plugins.get(plugin_name)
    return plugin.info.label if plugin and plugin.info else plugin_name


def _state(value) -> State:
    try:
        return State(value)
    except ValueError as exc:
        raise TransitionError(f"État inconnu : {value!r}.", field="to") from exc


def _jsonable(value) -> bool:
    return isinstance(value, (str, int, float, bool, type(None), list, dict))
