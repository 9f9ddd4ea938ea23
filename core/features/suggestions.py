"""Other aids first: the microcredit never replaces legal or optional aid.

Every enabled plugin may suggest aids or schemes for a case (hook
``ccas_suggest_alternatives``). They are stored when the case enters evaluation and
whenever asked (:func:`refresh`); the social worker resolves each one (mobilised,
requested, or not applicable with a reason). The move from evaluation to instruction is
vetoed while a suggestion is unresolved, and while a *blocking* suggestion (a business
project for ADIE…) has not been overridden with a reason.

Services here take the session, validate before writing, never commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select

from .. import audit, cases, clock, plugins, row_views
from ..errors import UserError
from ..hookspecs import hookimpl
from ..models import CaseSuggestion, State, SuggestionStatus
from ..plugins.types import Suggestion
from ..policy import SOCIAL_WORKERS

log = logging.getLogger(__name__)

#: Case states in which suggestions are examined.
OPEN_STATES = frozenset({State.evaluation})
REASON_MIN, REASON_MAX = 5, 2000


@dataclass
class Collected:
    """What the enabled plugins suggest now: ``(plugin, Suggestion)`` pairs, and the
    plugins whose hook raised."""

    suggestions: list[tuple[str, Suggestion]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def collect(case) -> Collected:
    """Ask the current tenant's enabled plugins (a plugin that fails is named)."""
    answers = plugins.hooks().ccas_suggest_alternatives.answers(case=case)
    out = Collected(failed=list(answers.failed))
    for plugin, result in answers.results:
        seen = set()
        for suggestion in result:
            if suggestion.code not in seen:
                seen.add(suggestion.code)
                out.suggestions.append((plugin, suggestion))
    return out


#: Built once (a statement built per call costs more than the read); the tenant's
#: criterion is added per execution by the session (``core.tenancy``).
_FOR_CASE = select(CaseSuggestion).where(CaseSuggestion.case_id == bindparam("case_id"))


def for_case(session, case) -> list[CaseSuggestion]:
    """The stored suggestions of ``case``: blocking first, then by plugin and label."""
    rows = session.scalars(_FOR_CASE, {"case_id": case.id}).all()
    return sorted(rows, key=lambda s: (not s.blocking, s.plugin, s.label))


#: The case page's read: the rows as read-only views (``core.row_views``), built once.
_VIEWS_OF_CASE = row_views.statement(
    CaseSuggestion, CaseSuggestion.__table__.c.case_id == bindparam("case_id"))


def rows_of(session, case, known=()) -> list:
    """The stored suggestions of ``case`` as the page shows them, in :func:`for_case`'s
    order: read-only views of the rows (``core.row_views``: no ORM object), each with
    ``resolved_by``, the user who resolved it (``None`` if nobody), taken from ``known``
    (the users the page has read already) or, for the others, read in one query."""
    rows = row_views.read(session, _VIEWS_OF_CASE, {"case_id": case.id}, CaseSuggestion)
    if rows:
        users = cases.users_by_id(session, (r.resolved_by_id for r in rows), known)
        for row in rows:
            row.resolved_by = users.get(row.resolved_by_id)
    return sorted(rows, key=lambda s: (not s.blocking, s.plugin, s.label))


def refresh(session, case, actor=None) -> Collected:
    """Bring the stored suggestions in line with what the plugins suggest now.

    New suggestions are added (open); existing ones keep their resolution and get the
    current label, explanation and action; open ones no plugin suggests any more are
    removed, resolved ones are kept as the record of what was done.
    """
    collected = collect(case)
    stored = {(s.plugin, s.code): s for s in for_case(session, case)}
    current = set()
    for plugin, suggestion in collected.suggestions:
        key = (plugin, suggestion.code)
        current.add(key)
        row = stored.get(key)
        if row is None:
            row = CaseSuggestion(case_id=case.id, plugin=plugin, code=suggestion.code,
                                 status=SuggestionStatus.open)
            session.add(row)
            audit.record(session, "suggestion.add", case, actor=actor, plugin=plugin,
                         code=suggestion.code, label=suggestion.label[:200])
        row.label = suggestion.label[:200]
        row.why = suggestion.why or ""
        row.action = suggestion.action or ""
        row.blocking = bool(suggestion.blocking)
    for key, row in stored.items():
        if key in current or key[0] in collected.failed:
            continue
        if row.status == SuggestionStatus.open and not row.overridden:
            session.delete(row)
    session.flush()
    return collected


def _check_can_resolve(case, suggestion: CaseSuggestion, actor) -> None:
    if str(getattr(actor, "role", "")) not in SOCIAL_WORKERS:
        raise UserError("Seuls le travailleur social et le responsable traitent les "
                        "suggestions.", status=403)
    if suggestion.case_id != case.id:
        raise UserError("Suggestion introuvable.", status=404)
    if case.state not in OPEN_STATES:
        raise UserError("Les suggestions se traitent pendant l'évaluation.", status=422)


def _reason(text: str | None, field: str, required: bool) -> str:
    text = (text or "").strip()
    if required and len(text) < REASON_MIN:
        raise UserError(f"Indiquez un motif ({REASON_MIN} caractères au moins).",
                        status=422, field=field)
    if len(text) > REASON_MAX:
        raise UserError(f"Motif : {REASON_MAX} caractères au plus.", status=422, field=field)
    return text


def resolve(session, case, suggestion: CaseSuggestion, status: str, reason: str | None,
            actor, at: datetime | None = None) -> CaseSuggestion:
    """Record how a suggestion was handled: ``mobilised``, ``requested`` or
    ``not_applicable`` (a reason is then required)."""
    _check_can_resolve(case, suggestion, actor)
    try:
        value = SuggestionStatus(status)
    except ValueError:
        value = None
    if value is None or value == SuggestionStatus.open:
        raise UserError("Choisissez : aide mobilisée, demande faite ou ne s'applique pas.",
                        status=422, field="status")
    text = _reason(reason, "reason", required=value == SuggestionStatus.not_applicable)
    suggestion.status = value
    suggestion.reason = text
    suggestion.resolved_by_id = getattr(actor, "id", None)
    suggestion.resolved_at = at or clock.now()
    audit.record(session, "suggestion.resolve", case, actor=actor, plugin=suggestion.plugin,
                 code=suggestion.code, label=suggestion.label, status=value.value)
    session.flush()
    return suggestion


def override(session, case, suggestion: CaseSuggestion, reason: str | None, actor,
             at: datetime | None = None) -> CaseSuggestion:
    """Lift the veto of a blocking suggestion, with the reason (e.g. "the car is for a
    salaried job, not a business"). An open suggestion becomes "not applicable"."""
    _check_can_resolve(case, suggestion, actor)
    if not suggestion.blocking:
        raise UserError("Seule une suggestion bloquante peut être outrepassée.", status=422)
    text = _reason(reason, "override_reason", required=True)
    now = at or clock.now()
    suggestion.override_reason = text
    suggestion.overridden_by_id = getattr(actor, "id", None)
    suggestion.overridden_at = now
    if suggestion.status == SuggestionStatus.open:
        suggestion.status = SuggestionStatus.not_applicable
        suggestion.reason = text
        suggestion.resolved_by_id = getattr(actor, "id", None)
        suggestion.resolved_at = now
    audit.record(session, "suggestion.override", case, actor=actor, plugin=suggestion.plugin,
                 code=suggestion.code, label=suggestion.label)
    session.flush()
    return suggestion


def plugin_label(plugin: str) -> str:
    return plugins.registry().label(plugin)


def veto_messages(session, case) -> list[str]:
    """Why the case may not go to instruction now (refreshing the suggestions first)."""
    collected = refresh(session, case)
    messages = [
        f"Suggestions de l'extension {plugin_label(p)} indisponibles (erreur) : "
        "réessayez ou prévenez l'administrateur."
        for p in collected.failed
    ]
    rows = for_case(session, case)
    blocking = [s for s in rows if s.blocking and not s.overridden]
    open_rows = [s for s in rows if not s.blocking and not s.resolved]
    for s in blocking:
        messages.append(
            f"« {s.label} » ({plugin_label(s.plugin)}) bloque l'instruction : réorientez la "
            "personne, ou passez outre en indiquant un motif."
        )
    if open_rows:
        names = ", ".join(f"« {s.label} » ({plugin_label(s.plugin)})" for s in open_rows)
        messages.append(
            "Autres aides d'abord : traitez ces suggestions avant l'instruction (aide "
            f"mobilisée, demande faite ou ne s'applique pas, avec un motif) : {names}."
        )
    return messages


@hookimpl
def ccas_case_before_transition(case, transition, session) -> str | None:
    """Evaluation → instruction is vetoed by unresolved suggestions."""
    if transition.source != State.evaluation or transition.target != State.instruction:
        return None
    messages = veto_messages(session, case)
    return " ".join(messages) if messages else None


@hookimpl(tryfirst=True)
def ccas_case_after_transition(case, transition, actor, session) -> None:
    """A case entering evaluation gets the plugins' suggestions."""
    if transition.target == State.evaluation:
        collected = refresh(session, case, actor)
        for plugin in collected.failed:
            log.warning("suggestions of plugin %s failed for case %s", plugin, case.id)
