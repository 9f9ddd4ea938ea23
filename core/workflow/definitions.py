"""What the case workflow is made of, and the core's own part of it. PURE: no Flask, no
session.

The core declares its states, its transitions and the milestones of the review in
:data:`CORE`, a :class:`CaseWorkflow`; each plugin may declare one too (hook
``ccas_case_workflow``: states it owns, transitions, core transitions it replaces, intake
options, visibility, milestones, reasons). :func:`merge` builds the :class:`Workflow` of
a tenant from the core's part and its enabled plugins' parts (``core.plugins`` caches one
per set of enabled plugins).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from ..policy import CCAS_STAFF, LENDER, LENDER_DESK, SOCIAL_WORKERS

#: What became of a case, for the review and the referrers (from its state).
OUTCOMES = ("in_progress", "granted", "refused", "reoriented", "abandoned")


@dataclass(frozen=True)
class CaseState:
    """A state of the case workflow.

    :param code: stored in ``Case.state`` (24 characters at most, ``[a-z_]``).
    :param label: French label shown to users.
    :param outcome: what the state means for the review and for referrers: one of
        :data:`OUTCOMES`.
    :param terminal: no transition leaves it (the case is over).
    :param bookable: appointments may be booked with the social worker in this state.
    """

    code: str
    label: str
    outcome: str = "in_progress"
    terminal: bool = False
    bookable: bool = False

    def __post_init__(self):
        if self.outcome not in OUTCOMES:
            raise ValueError(f"state {self.code}: unknown outcome {self.outcome!r}")
        if not self.code or len(self.code) > 24 or not self.code.replace("_", "").isalpha() \
                or not self.code.islower():
            raise ValueError(f"state code {self.code!r}: 1 to 24 characters [a-z_]")


@dataclass(frozen=True)
class Transition:
    """A permitted move. ``reason`` names the coded-reason list required
    (``core.workflow.reasons``), ``reason_text`` requires a free text, ``destination`` a
    reorientation destination. ``side_exit`` moves ignore the checks of the state left
    and the core's own vetoes (the case leaves the path); plugins' vetoes still apply."""

    name: str
    source: str
    target: str
    roles: frozenset[str]
    label: str
    reason: str | None = None
    reason_text: bool = False
    destination: bool = False
    side_exit: bool = False


@dataclass(frozen=True)
class IntakeOption:
    """A choice offered when a case is opened (intake page and ``POST /api/v1/cases``):
    when it is ticked (``true`` in the API), the transition named ``transition`` out of
    ``intake`` is applied right after the case is opened, in the same transaction.

    :param name: the form and JSON field (e.g. the lender's ``send_to_<check>``).
    :param label: French label of the intake page's button.
    :param transition: the name of a transition out of ``intake``.
    :param description: English description for the API reference.
    :param done: French end of the confirmation, e.g. « et envoyée au prêteur ».
    """

    name: str
    label: str
    transition: str
    description: str = ""
    done: str = ""


@dataclass(frozen=True)
class Milestone:
    """A step of the process whose delays the review reports: the first time a case
    moved ``to`` one of ``states``, or ``from`` one of them. ``after`` places it in the
    sequence (the key of the milestone it follows). ``label`` is written as in the middle
    of a sentence (« premier entretien »): the review writes « Demande → premier
    entretien »."""

    key: str
    label: str
    mode: str
    states: tuple[str, ...]
    after: str | None = None
    #: With ``mode="from"``: only a move towards one of these states counts (empty: any).
    towards: tuple[str, ...] = ()

    def __post_init__(self):
        if self.mode not in ("to", "from"):
            raise ValueError(f"milestone {self.key}: mode is 'to' or 'from'")

    def reached_by(self, from_state: str | None, to_state: str) -> bool:
        """Whether a move ``from_state`` → ``to_state`` reaches this milestone."""
        if self.mode == "to":
            return to_state in self.states
        return from_state in self.states and (not self.towards or to_state in self.towards)


@dataclass(frozen=True)
class CaseWorkflow:
    """One part of the case workflow (the core's, or a plugin's).

    :param states: states owned by this part.
    :param transitions: moves between states (any state of the merged workflow).
    :param replaces: ``(source, target)`` of core transitions this part's path replaces
        (the lender puts its own check between intake and the documents).
    :param intake_options: :class:`IntakeOption` offered when a case is opened.
    :param visible_from: ``{role: state}``: a case is visible to ``role`` once it has
        reached ``state`` (the earliest declared wins).
    :param milestones: :class:`Milestone` of the review's delays.
    :param reasons: ``{kind: {code: label}}`` added to the default coded reasons.
    """

    states: tuple[CaseState, ...] = ()
    transitions: tuple[Transition, ...] = ()
    replaces: tuple[tuple[str, str], ...] = ()
    intake_options: tuple[IntakeOption, ...] = ()
    visible_from: Mapping[str, str] = field(default_factory=dict)
    milestones: tuple[Milestone, ...] = ()
    reasons: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


class WorkflowError(ValueError):
    """A plugin's part does not fit the workflow (unknown state, duplicate code…)."""


@dataclass(frozen=True)
class Workflow:
    """The merged workflow of a tenant: look states and moves up here."""

    states: Mapping[str, CaseState]
    transitions: tuple[Transition, ...]
    intake_options: tuple[IntakeOption, ...]
    visible_from: Mapping[str, tuple[str, ...]]
    milestones: tuple[Milestone, ...]
    reasons: Mapping[str, Mapping[str, str]]
    owners: Mapping[str, str]  # state code -> plugin name (core states: "core")

    def find(self, source: str, target: str) -> Transition | None:
        for t in self.transitions:
            if t.source == source and t.target == target:
                return t
        return None

    def available(self, state: str, role: str) -> list[Transition]:
        """The moves ``role`` may try from ``state``."""
        return [t for t in self.transitions if t.source == state and role in t.roles]

    def out_of_intake(self, name: str) -> Transition | None:
        return next((t for t in self.transitions
                     if t.source == "intake" and t.name == name), None)

    def label(self, state: str) -> str:
        found = self.states.get(str(state))
        return found.label if found else str(state)

    def labels(self) -> dict[str, str]:
        return {code: s.label for code, s in self.states.items()}

    def is_terminal(self, state: str) -> bool:
        found = self.states.get(str(state))
        return bool(found and found.terminal)

    def terminal(self) -> frozenset[str]:
        return frozenset(code for code, s in self.states.items() if s.terminal)

    def outcome(self, state: str) -> str:
        found = self.states.get(str(state))
        return found.outcome if found else "in_progress"

    def bookable(self) -> frozenset[str]:
        return frozenset(code for code, s in self.states.items() if s.bookable)

    def delays(self) -> tuple[tuple[str, str, str, str], ...]:
        """``(key, earlier, later, label)`` of each delay of the review: every step
        between consecutive milestones, then the whole way from the first to the last."""
        marks = self.milestones
        steps = [(f"{a.key}_to_{b.key}", a.key, b.key, f"{_cap(a.label)} → {b.label}")
                 for a, b in zip(marks, marks[1:], strict=False)]
        if len(marks) > 2:
            first, last = marks[0], marks[-1]
            steps.append((f"{first.key}_to_{last.key}", first.key, last.key,
                          f"{_cap(first.label)} → {last.label} (total)"))
        return tuple(steps)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _t(name, sources, target, roles, label, **kw) -> tuple[Transition, ...]:
    if isinstance(sources, str):
        sources = (sources,)
    return tuple(Transition(name, s, target, frozenset(roles), label, **kw) for s in sources)


_CORE_STATES = (
    CaseState("intake", "Fiche recueil"),
    CaseState("documents_requested", "Pièces demandées", bookable=True),
    CaseState("evaluation", "Évaluation", bookable=True),
    CaseState("instruction", "Instruction", bookable=True),
    CaseState("submitted_to_lender", "Transmis au prêteur", bookable=True),
    CaseState("granted", "Accordé", outcome="granted", bookable=True),
    CaseState("refused", "Refusé", outcome="refused", terminal=True),
    CaseState("adjourned", "Ajourné", bookable=True),
    CaseState("signing", "Signature", outcome="granted", bookable=True),
    CaseState("withdrawal_period", "Délai de rétractation", outcome="granted", bookable=True),
    CaseState("disbursed", "Décaissé", outcome="granted", bookable=True),
    CaseState("repaying", "En remboursement", outcome="granted", bookable=True),
    CaseState("closed", "Clôturé", outcome="granted", terminal=True),
    CaseState("reoriented", "Réorienté", outcome="reoriented", terminal=True),
    CaseState("abandoned", "Abandonné", outcome="abandoned", terminal=True),
    CaseState("withdrawn", "Rétractation", outcome="granted", terminal=True),
)

#: States from which a case may still be abandoned (everything before disbursement).
BEFORE_DISBURSEMENT = ("intake", "documents_requested", "evaluation", "instruction",
                       "submitted_to_lender", "granted", "adjourned", "signing")

#: The core's part: the path of the seed's scheme without any partner.
CORE = CaseWorkflow(
    states=_CORE_STATES,
    transitions=(
        _t("request_documents", "intake", "documents_requested", CCAS_STAFF,
           "Demander les pièces")
        + _t("start_evaluation", "documents_requested", "evaluation", CCAS_STAFF,
             "Commencer l'évaluation")
        + _t("start_instruction", "evaluation", "instruction", SOCIAL_WORKERS,
             "Passer à l'instruction")
        + _t("submit_to_lender", "instruction", "submitted_to_lender", SOCIAL_WORKERS,
             "Transmettre au prêteur")
        + _t("grant", "submitted_to_lender", "granted", LENDER, "Accorder")
        + _t("refuse", "submitted_to_lender", "refused", LENDER, "Refuser", reason="refuse")
        + _t("adjourn", "submitted_to_lender", "adjourned", LENDER, "Ajourner",
             reason_text=True)
        + _t("resume_instruction", "adjourned", "instruction", SOCIAL_WORKERS,
             "Reprendre l'instruction")
        + _t("prepare_signing", "granted", "signing", SOCIAL_WORKERS | LENDER,
             "Préparer la signature")
        + _t("sign", "signing", "withdrawal_period", SOCIAL_WORKERS | LENDER,
             "Enregistrer la signature tripartite")
        + _t("withdraw", "withdrawal_period", "withdrawn", SOCIAL_WORKERS | LENDER,
             "Rétractation de l'emprunteur", side_exit=True)
        + _t("disburse", "withdrawal_period", "disbursed", LENDER, "Décaisser")
        + _t("start_repaying", "disbursed", "repaying", LENDER_DESK,
             "Premier remboursement")
        + _t("close", "repaying", "closed", SOCIAL_WORKERS | LENDER, "Clôturer",
             reason="close")
        + _t("reorient", ("intake", "documents_requested", "evaluation"), "reoriented",
             CCAS_STAFF, "Réorienter", reason="reorient", destination=True, side_exit=True)
        + _t("abandon", BEFORE_DISBURSEMENT, "abandoned", CCAS_STAFF, "Abandon",
             reason="abandon", side_exit=True)
    ),
    # The lender agents see a case once the CCAS has submitted it (a lender plugin may
    # show it earlier, e.g. from its own check).
    visible_from={"lender_agent": "submitted_to_lender"},
    milestones=(
        Milestone("intake", "demande", "to", ("intake",)),
        Milestone("evaluation", "premier entretien", "to", ("evaluation",), after="intake"),
        Milestone("instruction", "instruction", "to", ("instruction",), after="evaluation"),
        Milestone("submission", "transmission au prêteur", "to", ("submitted_to_lender",),
                  after="instruction"),
        Milestone("decision", "décision", "to", ("granted", "refused", "adjourned"),
                  after="submission"),
    ),
)


def merge(parts: Iterable[tuple[str, CaseWorkflow]]) -> Workflow:
    """The workflow made of the core's part and the plugins' ``(name, part)``, in the
    order given. Raises :class:`WorkflowError` naming the plugin on a part that does not
    fit (a state declared twice, a transition to an unknown state…)."""
    parts = [("core", CORE), *parts]
    states: dict[str, CaseState] = {}
    owners: dict[str, str] = {}
    for owner, part in parts:
        for state in part.states:
            if state.code in states:
                raise WorkflowError(f"{owner}: state {state.code!r} is already "
                                    f"declared by {owners[state.code]}")
            states[state.code] = state
            owners[state.code] = owner
    replaced = {edge for _owner, part in parts for edge in part.replaces}
    transitions: list[Transition] = []
    for owner, part in parts:
        for t in part.transitions:
            for end in (t.source, t.target):
                if end not in states:
                    raise WorkflowError(f"{owner}: transition {t.name} uses unknown state "
                                        f"{end!r}")
            if states[t.source].terminal:
                raise WorkflowError(f"{owner}: transition {t.name} leaves the terminal "
                                    f"state {t.source!r}")
            if owner == "core" and (t.source, t.target) in replaced:
                continue
            transitions.append(t)
    visible: dict[str, list[str]] = {}
    options: list[IntakeOption] = []
    reasons: dict[str, dict[str, str]] = {}
    for owner, part in parts:
        for role, state in part.visible_from.items():
            if state not in states:
                raise WorkflowError(f"{owner}: visible_from uses unknown state {state!r}")
            visible.setdefault(role, []).append(state)
        for option in part.intake_options:
            if not any(t.source == "intake" and t.name == option.transition
                       for t in transitions):
                raise WorkflowError(f"{owner}: intake option {option.name} names no "
                                    f"transition out of intake ({option.transition!r})")
            options.append(option)
        for kind, codes in part.reasons.items():
            reasons.setdefault(kind, {}).update(codes)
    return Workflow(
        states=MappingProxyType(states),
        transitions=tuple(transitions),
        intake_options=tuple(options),
        visible_from=MappingProxyType({r: tuple(s) for r, s in visible.items()}),
        milestones=_ordered_milestones(parts, states),
        reasons=MappingProxyType({k: MappingProxyType(v) for k, v in reasons.items()}),
        owners=MappingProxyType(owners),
    )


def _ordered_milestones(parts, states) -> tuple[Milestone, ...]:
    ordered: list[Milestone] = []
    for owner, part in parts:
        for mark in part.milestones:
            if any(m.key == mark.key for m in ordered):
                raise WorkflowError(f"{owner}: milestone {mark.key!r} declared twice")
            for state in (*mark.states, *mark.towards):
                if state not in states:
                    raise WorkflowError(f"{owner}: milestone {mark.key} uses unknown state "
                                        f"{state!r}")
            if mark.after is None:
                ordered.append(mark)
                continue
            at = next((i for i, m in enumerate(ordered) if m.key == mark.after), None)
            if at is None:
                raise WorkflowError(f"{owner}: milestone {mark.key} follows unknown "
                                    f"{mark.after!r}")
            ordered.insert(at + 1, replace(mark))
    return tuple(ordered)
